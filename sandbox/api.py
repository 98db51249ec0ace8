"""The sandbox page's JSON endpoints and its live feed (server-sent events).

Endpoints that change state refuse cross-site requests: they need the `X-Sandbox: 1`
header and a JSON body (neither of which a foreign page can send without a CORS preflight,
which we never grant), and one of this server's loopback origins when the browser sends an
`Origin` (`sandbox/guard.py` has already refused non-loopback peers and `Host`s).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from core.links import Links
from core.safejson import JsonError, loads_object
from sandbox.botmethods import visible_commands
from sandbox.fake import FakeTelegram
from sandbox.guard import is_loopback_origin
from sandbox.protocol import Json
from sandbox.users import UserActionError, get_user
from sandbox.world import SandboxUser

FAKE = web.AppKey("sandbox_fake", FakeTelegram)
LINKS = web.AppKey("sandbox_links", Links)
PING_SECONDS = 15.0  # keeps proxies from closing an idle stream, and finds pages gone
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
GUEST = {"ru": "Гость", "en": "Guest"}

Action = Callable[[FakeTelegram, web.Request, Json], Any]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _cross_site(request: web.Request) -> str | None:
    if request.headers.get("X-Sandbox") != "1":
        return "missing X-Sandbox header"
    if request.content_type != "application/json":
        return "JSON body expected"
    origin = request.headers.get("Origin")
    if origin is not None and not is_loopback_origin(request, origin):
        return "cross-site request refused"
    return None


def action(handler: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A state-changing endpoint: same-origin JSON in, JSON out, user mistakes as 400."""

    @functools.wraps(handler)
    async def endpoint(request: web.Request) -> web.Response:
        if reason := _cross_site(request):
            return _error(403, reason)
        try:
            body = loads_object(await request.read())
        except JsonError:
            return _error(400, "a JSON object expected")
        try:
            return web.json_response(handler(request.app[FAKE], request, body))
        except UserActionError as exc:
            return _error(400, str(exc))

    return endpoint


def user_json(fake: FakeTelegram, user: SandboxUser) -> Json:
    flags = {"blocked": user.blocked, "started": user.started}
    return user.to_api() | flags | {"phone_number": user.phone_number}


def _user(fake: FakeTelegram, request: web.Request) -> SandboxUser:
    try:
        return get_user(fake.world, int(request.match_info["user_id"]))
    except ValueError:
        raise UserActionError("no such user") from None


def _text(body: Json, name: str, limit: int) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise UserActionError(f"{name}: text of at most {limit} characters expected")
    return value.strip()


def _new_user(fake: FakeTelegram, body: Json) -> SandboxUser:
    language = body.get("language_code") or "ru"
    if language not in GUEST:
        raise UserActionError("language_code: ru or en")
    name = _text(body, "first_name", 64) or f"{GUEST[language]} {len(fake.world.users) + 1}"
    username = _text(body, "username", 33).removeprefix("@")
    if username and not USERNAME.match(username):
        raise UserActionError("username: 5-32 letters, digits or _, starting with a letter")
    return fake.create_user(name, username=username, language_code=language)


@action
def create_user(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    return user_json(fake, _new_user(fake, body))


@action
def open_bot(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    """A visitor arrives by a deep link: a new user who opens the bot with `/start <payload>`."""
    user = _new_user(fake, body)
    message = fake.send_start(user.id, _text(body, "payload", 64))
    return {"user": user_json(fake, user), "message": message}


@action
def send(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    user = _user(fake, request)
    if "payload" in body:
        return fake.send_start(user.id, _text(body, "payload", 64))
    text = body.get("text")
    if not isinstance(text, str):
        raise UserActionError("text expected")
    return fake.send_text(user.id, text)


@action
def press(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    user = _user(fake, request)
    message_id, data = body.get("message_id"), body.get("data")
    if not isinstance(message_id, int) or not isinstance(data, str):
        raise UserActionError("message_id and data expected")
    return {"callback_query_id": fake.press_button(user.id, message_id, data=data)}


@action
def share_contact(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    """The user taps a `request_contact` button (giving their number the first time)."""
    user = _user(fake, request)
    return fake.share_contact(user.id, _text(body, "phone_number", 32))


@action
def block(fake: FakeTelegram, request: web.Request, body: Json) -> Json:
    user = _user(fake, request)
    fake.block_bot(user.id, bool(body.get("blocked")))
    return user_json(fake, user)


async def state(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    users = [user_json(fake, user) for user in reversed(fake.world.users.values())]
    form_url = f"{request.app[LINKS].base_url}/"
    return web.json_response({"bot": fake.bot_user, "users": users, "form_url": form_url})


def snapshot(fake: FakeTelegram, user: SandboxUser) -> Json:
    chat = fake.world.chat(user.id)
    return {
        "type": "snapshot",
        "bot": fake.bot_user,
        "user": user_json(fake, user),
        "messages": list(chat.messages.values()),
        "keyboard": chat.keyboard,
        "commands": visible_commands(fake.world, user),
    }


async def events(request: web.Request) -> web.StreamResponse:
    """One user's chat, live: a snapshot first, then every change as it happens."""
    fake = request.app[FAKE]
    try:
        user = _user(fake, request)
    except UserActionError as exc:
        return _error(404, str(exc))
    queue = fake.world.subscribe(user.id)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    try:
        await response.prepare(request)
        await response.write(b"retry: 1000\n\n")  # reconnect fast after a restart
        await _send(response, snapshot(fake, user))
        while True:
            try:
                async with asyncio.timeout(PING_SECONDS):  # not wait_for: see delivery/sender.py
                    event = await queue.get()
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if event is None:  # fell behind, or the server stops: the page reconnects
                break
            await _send(response, event)
        await response.write_eof()
    except ConnectionResetError:  # the page went away
        pass
    finally:
        fake.world.unsubscribe(user.id, queue)
    return response


async def _send(response: web.StreamResponse, event: Json) -> None:
    # json.dumps escapes newlines, so one event is always one `data:` line.
    await response.write(f"data: {json.dumps(event)}\n\n".encode())
