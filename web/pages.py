"""Rendering a page: the template, the language, and the headers every page carries."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from web.i18n import page_context

# The pages load only our own CSS and JS, talk and post only to us, and are never framed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    # Pages carry a per-visitor CSRF token or deep link: no shared cache may keep them.
    "Cache-Control": "no-store",
}


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(
        template, request, page_context(request, context), status=status
    )
    response.headers.update(PAGE_HEADERS)
    return response
