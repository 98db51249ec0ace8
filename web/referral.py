"""`GET /r/<code>`: a partner's short link. Counts the visit, then shows the form."""

from __future__ import annotations

from aiohttp import web

from core.contact import UTM_KEYS
from core.referrals import CODE, record_visit
from web import keys


async def referral_link(request: web.Request) -> web.StreamResponse:
    code = request.match_info["code"]
    form = request.app.router["form"].url_for()
    if not CODE.match(code):
        raise web.HTTPFound(form)  # a mangled link still reaches the form
    query = {k: v for k, v in request.query.items() if k in (*UTM_KEYS, "lang")}
    await record_visit(request.app[keys.CLOCK], code, query, request.headers.get("Referer"))
    raise web.HTTPFound(form.with_query({"ref": code, **query}))
