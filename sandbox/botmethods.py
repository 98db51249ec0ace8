"""Bot API methods about the bot itself: identity, updates, webhook, commands, chats."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from typing import Any

from sandbox.protocol import BotApiError, Json, Params, bad_request
from sandbox.webhook import delete_webhook, get_webhook_info, refuse_polling_while_set, set_webhook
from sandbox.world import Method, SandboxUser, World

POLL_TIMEOUT_LIMIT = 50  # seconds; Telegram caps long polls too
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


async def get_me(world: World, p: Params) -> Json:
    return world.bot | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(world: World, p: Params) -> list[Json]:
    """Long polling: answers at once when updates are waiting, else when one arrives or the
    timeout ends. `offset` confirms everything before it; a newer call ends an older one."""
    refuse_polling_while_set(world)
    allowed = p.obj("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise bad_request("can't parse allowed_updates JSON object")
        world.allowed_updates = frozenset(allowed) or None  # [] means Telegram's default
    offset = p.integer("offset")
    if offset is not None:
        world.confirm(offset)
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = min(max(p.integer("timeout") or 0, 0), POLL_TIMEOUT_LIMIT)
    world.poll_generation += 1
    mine = world.poll_generation
    if timeout:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await world.wait_until(
                    lambda: world.updates or world.closed or world.poll_generation != mine
                )
    if world.poll_generation != mine:
        raise BotApiError(409, CONFLICT)
    return list(itertools.islice(world.updates, limit))


def _command_key(p: Params) -> tuple[str, str]:
    scope = p.obj("scope") or {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), p.text("language_code")


async def set_my_commands(world: World, p: Params) -> bool:
    commands = p.obj("commands", "commands") or []
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    clean: list[Json] = []
    for command in commands:
        if not isinstance(command, dict) or not COMMAND.match(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": command["command"], "description": description})
    world.commands[_command_key(p)] = clean
    return True


async def get_my_commands(world: World, p: Params) -> list[Json]:
    return world.commands.get(_command_key(p), [])


async def delete_my_commands(world: World, p: Params) -> bool:
    world.commands.pop(_command_key(p), None)
    return True


def visible_commands(world: World, user: SandboxUser) -> list[Json]:
    """The command menu a user sees: the narrowest scope and the user's language first."""
    scopes: list[Json] = [
        {"chat_id": user.id, "type": "chat"},
        {"type": "all_private_chats"},
        {"type": "default"},
    ]
    for scope, language in itertools.product(scopes, (user.language_code, "")):
        found = world.commands.get((json.dumps(scope, sort_keys=True), language))
        if found is not None:
            return found
    return []


async def get_chat(world: World, p: Params) -> Json:
    user = world.users.get(p.chat_id())
    if user is None:
        raise bad_request("chat not found")
    gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
    return user.chat() | {
        "accent_color_id": user.id % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
    }


async def done(world: World, p: Params) -> Any:
    return True


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getChat": get_chat,
    "close": done,
    "logOut": done,
}
