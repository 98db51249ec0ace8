"""`setup_sandbox`: the `/sandbox` page, its static files, its API and the files bots sent.

The page is static HTML + JS: every bot or user text reaches the browser as JSON and is
put into the page as text nodes, never as HTML, and a strict Content-Security-Policy
forbids inline scripts besides.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from core.links import Links
from sandbox import api, webapp
from sandbox.fake import FakeTelegram
from sandbox.guard import loopback_only
from sandbox.media import image_size

STATIC = Path(__file__).parent / "static"
ASSETS = {"sandbox.js": "text/javascript", "sandbox.css": "text/css"}
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: http: https:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}


def setup_sandbox(app: web.Application, fake: FakeTelegram, links: Links) -> None:
    """Add the sandbox page and its endpoints to the product's web app; every path under
    /sandbox (the fake Bot API mounted there too) serves loopback clients only."""
    app.middlewares.append(loopback_only)
    app[api.FAKE] = fake
    app[api.LINKS] = links
    router = app.router
    router.add_get("/sandbox", index)
    router.add_get("/sandbox/static/{name}", asset)
    router.add_get("/sandbox/files/{file_id}", download)
    router.add_get("/sandbox/api/state", api.state)
    router.add_post("/sandbox/api/users", api.create_user)
    router.add_post("/sandbox/api/open", api.open_bot)
    router.add_post("/sandbox/api/users/{user_id}/messages", api.send)
    router.add_post("/sandbox/api/users/{user_id}/press", api.press)
    router.add_post("/sandbox/api/users/{user_id}/contact", api.share_contact)
    router.add_post("/sandbox/api/users/{user_id}/block", api.block)
    router.add_post("/sandbox/api/users/{user_id}/webapp", webapp.open_endpoint)
    router.add_get("/sandbox/api/users/{user_id}/events", api.events)


async def index(request: web.Request) -> web.Response:
    return web.Response(
        body=(STATIC / "sandbox.html").read_bytes(),
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": PAGE_POLICY,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(
        body=(STATIC / name).read_bytes(),
        content_type=ASSETS[name],
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


async def download(request: web.Request) -> web.StreamResponse:
    """A photo or document the bot sent. Only real images are shown inline; everything
    else is a download, so a bot's "document.html" never runs as a page of this site."""
    stored = request.app[api.FAKE].world.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    if stored.url and not stored.data:  # sent by URL: the sandbox never fetched it
        raise web.HTTPFound(stored.url)
    image = image_size(stored.data) if stored.kind == "photo" else None
    disposition = "inline" if image else "attachment"
    return web.Response(
        body=stored.data,
        content_type=image[0] if image else "application/octet-stream",
        headers=FILE_HEADERS
        | {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(stored.name)}"},
    )
