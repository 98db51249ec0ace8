"""Mini Apps in the sandbox: a `web_app` button opens its page as Telegram would.

Telegram opens the button's URL with `#tgWebAppData=<initData>` (and a few
`tgWebApp…` parameters) in the address' fragment, where initData names the user and is
signed with the bot's token: HMAC-SHA256 over the sorted `key=value` lines, keyed with
HMAC-SHA256("WebAppData", token) (https://core.telegram.org/bots/webapps). The sandbox
signs with its own fake bot's token in exactly that way, at the moment the button is
pressed, so the product's validation is the real one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

from aiohttp import web

from sandbox.api import FAKE, action
from sandbox.fake import FakeTelegram
from sandbox.protocol import Json
from sandbox.users import UserActionError, get_user
from sandbox.world import SandboxUser

WEB_APP_VERSION = "9.0"


def init_data(token: str, user: SandboxUser, auth_date: int, query_id: str) -> str:
    """The initData string Telegram would give a Mini App opened by `user`."""
    person = {k: v for k, v in user.to_api().items() if k != "is_bot"}
    person["allows_write_to_pm"] = True
    fields = {
        "query_id": query_id,
        "user": json.dumps(person, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(auth_date),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields, quote_via=quote)


def launch_url(url: str, data: str) -> str:
    fragment = urlencode(
        {"tgWebAppData": data, "tgWebAppVersion": WEB_APP_VERSION, "tgWebAppPlatform": "weba"},
        quote_via=quote,
    )
    return f"{url.split('#', 1)[0]}#{fragment}"


def open_web_app(fake: FakeTelegram, user_id: int, message_id: int, url: str) -> str:
    """The address the user's Telegram opens for the `web_app` button `url` on a message
    the bot sent them (only such a button opens a Mini App with their data)."""
    user = get_user(fake.world, user_id)
    message = fake.world.chat(user_id).messages.get(message_id) or {}
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    if not any((b.get("web_app") or {}).get("url") == url for row in rows for b in row):
        raise UserActionError("no such Mini App button on that message")
    data = init_data(fake.token, user, int(fake.world.now()), f"AA{fake.world.new_query_id()}")
    return launch_url(url, data)


@action
def open_endpoint(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    """POST /sandbox/api/users/<id>/webapp {message_id, url} → {url}: what to open."""
    message_id, url = body.get("message_id"), body.get("url")
    if not isinstance(message_id, int) or not isinstance(url, str):
        raise UserActionError("message_id and url expected")
    try:
        user_id = int(request.match_info["user_id"])
    except ValueError:
        raise UserActionError("no such user") from None
    return {"url": open_web_app(request.app[FAKE], user_id, message_id, url)}
