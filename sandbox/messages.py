"""Bot API methods that write into a chat: send, edit, delete, answer a button press."""

from __future__ import annotations

from sandbox.keyboards import Markup, check_for_chat, read_markup
from sandbox.markup import format_text, utf16_len
from sandbox.protocol import BotApiError, Json, Params, bad_request, forbidden
from sandbox.world import Chat, Method, SandboxUser, World

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def target(world: World, p: Params) -> Chat:
    """The chat a method addresses, refused the way Telegram refuses it."""
    group = world.groups.get(p.chat_id())
    if group is not None:
        if group.migrated_to is not None:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": group.migrated_to},
            )
        return group
    user = world.users.get(p.chat_id())
    if user is None:
        raise bad_request("chat not found")
    if user.blocked:
        raise forbidden("bot was blocked by the user")
    if not user.started:
        raise forbidden("bot can't initiate conversation with a user")
    return user


def caption(p: Params) -> Json:
    """caption + caption_entities of a media message."""
    if not p.has("caption"):
        return {}
    text, entities = format_text(p.text("caption"), p.text("parse_mode"), p.obj("caption_entities"))
    if utf16_len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return {"caption": text, "caption_entities": entities} if entities else {"caption": text}


def deliver(world: World, user: Chat, content: Json, p: Params, markup: Markup) -> Json:
    """Store a bot message (after reply and keyboard checks) and return it as Telegram does."""
    chat = world.chat(user.id)
    reply = p.obj("reply_parameters") or {}
    reply_to = reply.get("message_id") if isinstance(reply, dict) else None
    reply_to = reply_to or p.integer("reply_to_message_id")
    if reply_to:
        original = chat.messages.get(int(reply_to))
        if original is not None:
            content["reply_to_message"] = {
                k: v for k, v in original.items() if k != "reply_to_message"
            }
        elif not (isinstance(reply, dict) and reply.get("allow_sending_without_reply")):
            raise bad_request("message to be replied not found")
    check_for_chat(markup.inline, isinstance(user, SandboxUser))
    if markup.inline:
        content["reply_markup"] = markup.inline
    message = world.store(user.id, world.bot, content)
    if markup.replaces_keyboard:
        chat.keyboard = markup.keyboard
        world.publish(user.id, {"type": "keyboard", "keyboard": markup.keyboard})
    return message


async def send_message(world: World, p: Params) -> Json:
    user = target(world, p)
    text, entities = format_text(p.text("text"), p.text("parse_mode"), p.obj("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    markup = read_markup(p)
    content: Json = {"text": text, "entities": entities} if entities else {"text": text}
    return deliver(world, user, content, p, markup)


def _bot_message(world: World, p: Params, missing: str) -> tuple[Chat, Json]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline mode
    user = target(world, p)
    message_id = p.integer("message_id", missing="message identifier is not specified")
    message = world.chat(user.id).messages.get(message_id or 0)
    if message is None:
        raise bad_request(missing)
    return user, message


def _edit(world: World, user: Chat, message: Json, changes: Json) -> Json:
    if message["from"]["id"] != world.bot["id"]:
        raise bad_request("message can't be edited")
    # Telegram drops an inline keyboard that an edit does not repeat.
    changes.setdefault("reply_markup", None)
    check_for_chat(changes["reply_markup"], isinstance(user, SandboxUser))
    if all(message.get(key) == value for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message["edit_date"] = int(world.now())
    world.publish(user.id, {"type": "edit", "message": message})
    return message


async def edit_message_text(world: World, p: Params) -> Json:
    user, message = _bot_message(world, p, "message to edit not found")
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(p.text("text"), p.text("parse_mode"), p.obj("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    markup = read_markup(p, inline_only=True).inline
    changes = {"text": text, "entities": entities or None, "reply_markup": markup}
    return _edit(world, user, message, changes)


async def edit_message_caption(world: World, p: Params) -> Json:
    user, message = _bot_message(world, p, "message to edit not found")
    if "text" in message:
        raise bad_request("there is no caption in the message to edit")
    changes: Json = {"caption": None, "caption_entities": None} | caption(p)
    changes["reply_markup"] = read_markup(p, inline_only=True).inline
    return _edit(world, user, message, changes)


async def edit_message_reply_markup(world: World, p: Params) -> Json:
    user, message = _bot_message(world, p, "message to edit not found")
    markup = read_markup(p, inline_only=True).inline
    return _edit(world, user, message, {"reply_markup": markup})


async def delete_message(world: World, p: Params) -> bool:
    user, message = _bot_message(world, p, "message to delete not found")
    del world.chat(user.id).messages[message["message_id"]]
    world.publish(user.id, {"type": "delete", "message_id": message["message_id"]})
    return True


async def answer_callback_query(world: World, p: Params) -> bool:
    query_id = p.text("callback_query_id")
    query = world.callbacks.pop(query_id, None)
    if query is None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    answer: Json = {
        "type": "callback_answer",
        "callback_query_id": query_id,
        "text": p.text("text"),
        "show_alert": p.flag("show_alert"),
        "url": p.text("url"),
    }
    world.answers[query_id] = answer
    world.publish(query["from"]["id"], answer)
    return True


async def send_chat_action(world: World, p: Params) -> bool:
    user = target(world, p)
    action = p.text("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.publish(user.id, {"type": "chat_action", "action": action})
    return True


METHODS: dict[str, Method] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
