"""reply_markup as Telegram checks it: inline keyboards travel with the message, reply
keyboards replace the keyboard under the user's input field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.protocol import Json, Params, bad_request

BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
URL_SCHEMES = ("http://", "https://", "tg://")


@dataclass(frozen=True)
class Markup:
    inline: Json | None = None  # InlineKeyboardMarkup, stored on the message
    keyboard: Json | None = None  # the new reply keyboard, when `replaces_keyboard`
    replaces_keyboard: bool = False


def read_markup(p: Params, *, inline_only: bool = False) -> Markup:
    markup = p.obj("reply_markup", "reply keyboard markup")
    if markup is None:
        return Markup()
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return Markup(inline={"inline_keyboard": _inline_rows(markup["inline_keyboard"])})
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = [[_reply_button(b) for b in _row(row)] for row in _rows(markup["keyboard"])]
        keep = ("resize_keyboard", "one_time_keyboard", "input_field_placeholder", "is_persistent")
        keyboard = {"keyboard": rows} | {k: markup[k] for k in keep if k in markup}
        return Markup(keyboard=keyboard, replaces_keyboard=True)
    if markup.get("remove_keyboard"):
        return Markup(replaces_keyboard=True)
    return Markup()  # force_reply: nothing to show


def find_callback_button(message: Json, data: str | None, text: str | None) -> Json | None:
    """The inline button a user can press on `message`, by callback_data or by label."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    for row in rows:
        for button in row:
            if "callback_data" not in button:
                continue
            if (data is not None and button["callback_data"] == data) or (
                data is None and button["text"] == text
            ):
                return dict(button)
    return None


def _rows(rows: Any) -> list[Any]:
    if not isinstance(rows, list):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return rows


def _row(row: Any) -> list[Any]:
    if not isinstance(row, list):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return row


def _inline_rows(rows: Any) -> list[list[Json]]:
    return [[_inline_button(b) for b in _row(row)] for row in _rows(rows)]


def _inline_button(button: Any) -> Json:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a string")
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (isinstance(data, str) and 1 <= len(data.encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(URL_SCHEMES)):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return {"text": button["text"], **{name: button[name] for name in actions}}


def _reply_button(button: Any) -> Json:
    if isinstance(button, str):
        return {"text": button}
    if isinstance(button, dict) and isinstance(button.get("text"), str):
        return dict(button)
    raise bad_request("can't parse keyboard button: Text must be a string")
