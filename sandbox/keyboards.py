"""reply_markup as Telegram checks it: inline keyboards travel with the message, reply
keyboards replace the keyboard under the user's input field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yarl import URL

from core.loopback import is_loopback_host
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
    if "web_app" in button:
        _check_web_app(button["web_app"])
    return {"text": button["text"], **{name: button[name] for name in actions}}


def _check_web_app(web_app: Any) -> None:
    # A Mini App opens over HTTPS only. Like Telegram's test environment, the sandbox
    # also takes plain HTTP on this machine, where the product runs without TLS.
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str):
        raise bad_request("can't parse inline keyboard button: Web App URL must be a string")
    parsed = URL(url)
    local = parsed.scheme == "http" and is_loopback_host(parsed.host or "")
    if not ((parsed.scheme == "https" and parsed.host) or local):
        raise bad_request(
            f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed"
        )


def check_for_chat(inline: Json | None, private: bool) -> None:
    """Telegram takes `web_app` buttons in private chats only (groups: BUTTON_TYPE_INVALID)."""
    rows = (inline or {}).get("inline_keyboard", [])
    if not private and any("web_app" in b for row in rows for b in row):
        raise bad_request("BUTTON_TYPE_INVALID")


def _reply_button(button: Any) -> Json:
    if isinstance(button, str):
        return {"text": button}
    if isinstance(button, dict) and isinstance(button.get("text"), str):
        return dict(button)
    raise bad_request("can't parse keyboard button: Text must be a string")
