"""The reference for bench/ingest.py: the least an aiohttp server can do for the same load.

GET / answers a page with a CSRF-like hidden field and cookie (so the same client code
drives both servers); POST / reads the body and answers 303, storing nothing. The gap
between this and the real form is what our code (parsing, validation, CSRF, the ingest
and its durable commit) costs.

    python bench/bare_app.py PORT
"""

from __future__ import annotations

import sys

from aiohttp import web

PAGE = '<form method="post"><input type="hidden" name="csrf_token" value="bare-token"></form>'


async def page(request: web.Request) -> web.Response:
    response = web.Response(text=PAGE, content_type="text/html")
    response.set_cookie("funnel_csrf", "bare-nonce", httponly=True, samesite="Lax")
    return response


async def submit(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=303, headers={"Location": "/thanks"})


def main() -> None:
    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_post("/", submit)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
