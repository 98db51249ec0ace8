"""Helpers for the review tests: people with roles, forged presses, photos sent by users."""

from __future__ import annotations

from typing import Any

import main
from core.clock import FakeClock
from core.roles import Capability
from core.users import set_capability, set_role
from models import Role, User
from sandbox import FakeTelegram
from sandbox.world import SandboxUser

# The smallest valid PNG (1×1): what a user's photo is made of in the fake.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


async def someone(
    rt: main.Runtime,
    fake: FakeTelegram,
    clock: FakeClock,
    name: str,
    role: Role = Role.CANDIDATE,
    *,
    grants: tuple[Capability, ...] = (),
    username: str = "",
    language_code: str = "en",
) -> tuple[SandboxUser, User]:
    """A Telegram user who has opened the bot, with `role` and `grants` (set as the CLI
    does); their /start answer has arrived."""
    account = fake.create_user(name, username=username, language_code=language_code)
    sent = fake.send_start(account.id)
    await fake.wait_for_messages(account.id, after=sent["message_id"])
    if role is not Role.CANDIDATE:
        await set_role(rt.hub, clock, account.id, role, actor=None)
    for capability in grants:
        await set_capability(rt.hub, clock, account.id, capability, True, actor=None)
    return account, await User.get(telegram_id=account.id)


def forge_press(fake: FakeTelegram, account: SandboxUser, data: str) -> str:
    """A callback query with any data, under the last bot message in the presser's chat:
    a client may send that for any message (a forwarded notice, a modified app)."""
    query_id = fake.world.new_query_id()
    message = fake.bot_messages(account.id)[-1]
    query = {
        "id": query_id,
        "from": account.to_api(),
        "message": dict(message),
        "chat_instance": "1",
        "data": data,
    }
    fake.world.callbacks[query_id] = query
    fake.world.push_update("callback_query", query)
    return query_id


def send_photo(fake: FakeTelegram, account: SandboxUser, caption: str) -> dict[str, Any]:
    """The user sends a photo with `caption` (the fake keeps it, so the bot may send it on
    by file_id, as Telegram allows)."""
    return fake.send_photo(account.id, PNG_1X1, caption)


def with_text(messages: list[dict[str, Any]], start: str) -> list[dict[str, Any]]:
    return [m for m in messages if (m.get("text") or m.get("caption") or "").startswith(start)]


def callbacks(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]
