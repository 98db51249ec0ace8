"""What a Telegram user does: write to the bot, open a deep link, press a button, share a
contact, block it.

Each action records what the user's own app would show and queues the update Telegram
would deliver to the bot. Used by the sandbox page and by tests alike.
"""

from __future__ import annotations

import re

from sandbox.keyboards import find_callback_button
from sandbox.markup import detect_entities, utf16_len
from sandbox.media import image_size, new_file
from sandbox.protocol import Json
from sandbox.world import SandboxUser, World

START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PHONE_DIGITS = re.compile(r"^[0-9]{5,15}$")  # how Telegram gives a phone number: digits
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class UserActionError(ValueError):
    """Something the user's Telegram app would not let them do."""


def get_user(world: World, user_id: int) -> SandboxUser:
    user = world.users.get(user_id)
    if user is None:
        raise UserActionError(f"no sandbox user {user_id}")
    return user


def send_text(world: World, user_id: int, text: str) -> Json:
    """The user sends `text`; returns the message as the bot will receive it."""
    user = get_user(world, user_id)
    if not text.strip():
        raise UserActionError("a message can't be empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise UserActionError("a message is at most 4096 characters")
    content: Json = {"text": text}
    if entities := detect_entities(text, []):
        content["entities"] = entities
    return _send(world, user, content)


def _send(world: World, user: SandboxUser, content: Json) -> Json:
    """Store the user's message in their chat and hand it to the bot as an update."""
    if user.blocked:  # writing to a blocked bot means pressing "Restart": unblocks it
        set_blocked(world, user.id, blocked=False)
    user.started = True
    message = world.store(user.id, user.to_api(), content)
    world.push_update("message", dict(message))
    return message


def send_photo(world: World, user_id: int, data: bytes, caption: str = "") -> Json:
    """The user sends an image (PNG, JPEG or GIF) with an optional caption; the bot
    gets it as `photo` sizes whose file_id it may use to send the photo on."""
    user = get_user(world, user_id)
    size = image_size(data)
    if size is None:
        raise UserActionError("only an image can be sent as a photo")
    if utf16_len(caption) > CAPTION_LIMIT:
        raise UserActionError("a caption is at most 1024 characters")
    mime, width, height = size
    stored = new_file(world, "photo", "photo", mime, data)
    stored.width, stored.height = width, height
    world.files[stored.file_id] = stored
    photo = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    content: Json = {"photo": [photo | {"width": width, "height": height, "file_size": len(data)}]}
    if caption:
        content["caption"] = caption
        if entities := detect_entities(caption, []):
            content["caption_entities"] = entities
    return _send(world, user, content)


def share_contact(world: World, user_id: int, phone_number: str = "") -> Json:
    """The user taps the reply keyboard's `request_contact` button: Telegram sends the bot
    the number of the user's own account, as a contact whose `user_id` is theirs.

    A sandbox user gets their number the first time (`phone_number`); like a Telegram
    account, they keep it.
    """
    user = get_user(world, user_id)
    keyboard = world.chat(user_id).keyboard or {}
    buttons = [b for row in keyboard.get("keyboard", []) for b in row if b.get("request_contact")]
    if not buttons:
        raise UserActionError("the chat shows no button that shares the phone number")
    if not user.phone_number:
        user.phone_number = phone_digits(phone_number)
    contact: Json = {"phone_number": user.phone_number, "first_name": user.first_name}
    if user.last_name:
        contact["last_name"] = user.last_name
    return _send(world, user, {"contact": contact | {"user_id": user.id}})


def send_contact(
    world: World,
    user_id: int,
    phone_number: str,
    first_name: str,
    *,
    contact_user_id: int | None = None,
    forwarded_from: int | None = None,
) -> Json:
    """The user sends a contact card from their address book (with `contact_user_id` when
    its owner is on Telegram) or, with `forwarded_from`, forwards one another user sent."""
    user = get_user(world, user_id)
    contact: Json = {"phone_number": phone_digits(phone_number), "first_name": first_name}
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    content: Json = {"contact": contact}
    if forwarded_from is not None:
        origin = get_user(world, forwarded_from)
        content["forward_origin"] = {
            "type": "user",
            "sender_user": origin.to_api(),
            "date": int(world.now()),
        }
    return _send(world, user, content)


def phone_digits(phone_number: str) -> str:
    """A number as Telegram gives it: its digits (the "+" and any spacing dropped)."""
    digits = "".join(c for c in phone_number if c.isascii() and c.isdigit())
    if not PHONE_DIGITS.match(digits):
        raise UserActionError("a phone number of 5 to 15 digits is needed")
    return digits


def send_start(world: World, user_id: int, payload: str = "") -> Json:
    """The user opens `t.me/<bot>?start=<payload>`: the app sends `/start <payload>`.

    Telegram's apps drop a payload that is not 1-64 characters of A-Z a-z 0-9 _ -.
    """
    text = f"/start {payload}" if START_PAYLOAD.match(payload) else "/start"
    return send_text(world, user_id, text)


def press_button(
    world: World, user_id: int, message_id: int, *, data: str | None = None, text: str | None = None
) -> str:
    """The user presses an inline callback button (found by callback_data or by its label)
    under one of the chat's messages; returns the callback query's id."""
    user = get_user(world, user_id)
    message = world.chat(user_id).messages.get(message_id)
    if message is None:
        raise UserActionError(f"no message {message_id} in chat {user_id}")
    button = find_callback_button(message, data, text)
    if button is None:
        raise UserActionError(f"message {message_id} has no callback button {data or text!r}")
    query_id = world.new_query_id()
    query: Json = {
        "id": query_id,
        "from": user.to_api(),
        "message": dict(message),
        "chat_instance": str(-7_000_000_000_000 - user.id),
        "data": button["callback_data"],
    }
    world.callbacks[query_id] = query
    world.push_update("callback_query", query)
    return query_id


def set_blocked(world: World, user_id: int, *, blocked: bool) -> None:
    """The user blocks (or restarts) the bot; the bot gets a `my_chat_member` update."""
    user = get_user(world, user_id)
    if user.blocked == blocked:
        return
    user.blocked = blocked
    bot = {"user": world.bot, "status": "member"}
    kicked = {"user": world.bot, "status": "kicked", "until_date": 0}
    old, new = (bot, kicked) if blocked else (kicked, bot)
    update: Json = {
        "chat": user.chat(),
        "from": user.to_api(),
        "date": int(world.now()),
        "old_chat_member": old,
        "new_chat_member": new,
    }
    world.push_update("my_chat_member", update)
    world.publish(user_id, {"type": "blocked", "blocked": blocked})
