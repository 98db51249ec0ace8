"""The sandbox serves this machine only: a loopback peer, under a loopback `Host`.

The sandbox has no authentication — whoever reaches it can act as any user, read every
chat and, through the fake Bot API, send as the bot. Settings refuse to start it on a
non-loopback `WEB_HOST`; these checks hold whatever the listening address. The `Host`
check stops DNS rebinding (a page of evil.example whose name is re-pointed to 127.0.0.1
is still sent with `Host: evil.example`), and a state-changing request's `Origin` must be
one of this server's loopback origins — never compared with the request's own `Host`,
which the attacker's page chooses.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from yarl import URL

from core.loopback import is_loopback_address, is_loopback_host

PREFIX = "/sandbox"


def _host_of(value: str) -> str | None:
    try:
        return URL(value).host
    except ValueError:
        return None


def _local_port(request: web.Request) -> int | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else None


def refusal(request: web.Request) -> str | None:
    """Why this request may not reach the sandbox, or None."""
    if not is_loopback_address(request.remote or ""):
        return "the sandbox serves this machine only"
    host = _host_of(f"http://{request.host}")
    if host is None or not is_loopback_host(host):
        return "the sandbox answers only under a loopback Host (127.0.0.1, localhost)"
    return None


def is_loopback_origin(request: web.Request, origin: str) -> bool:
    """`origin` is http://127.0.0.1, localhost or [::1] on the port this request came to."""
    try:
        url = URL(origin)
    except ValueError:
        return False
    return (
        url.scheme == "http"
        and url.host is not None
        and is_loopback_host(url.host)
        and url.port == _local_port(request)
        and url.path in ("", "/")
    )


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    in_sandbox = request.path == PREFIX or request.path.startswith(PREFIX + "/")
    if in_sandbox and (reason := refusal(request)):
        return web.Response(status=403, text=reason)
    return await handler(request)
