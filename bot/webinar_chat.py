"""A live webinar's chat from the bot: the last messages with Delete / Mute, Close / Open.

For everyone with `webinar_manage_chat` (every speaker, not only the host). Each press
goes through `core/chat.py`, which stores the event; the hub's consumer pushes it to the
rooms, so a message deleted here disappears for everyone live there. A second press (or
another speaker's) is told it was done already. Messages are shown escaped and cut short.
"""

from __future__ import annotations

import html
from typing import Final, cast

from aiogram.types import CallbackQuery

from bot.access import allowed, refusal
from bot.context import Translate
from bot.replies import Reply
from bot.routes import Routes
from core.chat import (
    NoSuchMessage,
    author_lead,
    chat_exists,
    delete_message,
    history,
    mute,
    set_chat_open,
    unmute,
)
from core.clock import Clock
from core.hub import SignalHub
from core.roles import Capability
from core.telegram_limits import fit_plain
from core.users import NotAllowed
from delivery.callbacks import ChatModeration
from delivery.outbox import Button, Buttons
from locales import N_
from models import ChatMute, User, Webinar

router: Final[Routes] = Routes(__name__)

NEED = Capability.WEBINAR_MANAGE_CHAT
SHOWN = 10  # the newest messages on the screen
TEXT_SHOWN = 200  # characters of each


async def chat_screen(webinar: Webinar, t: Translate) -> tuple[str, Buttons]:
    messages = (await history(webinar.id))[-SHOWN:]
    mutes = ChatMute.filter(webinar_id=webinar.id).values_list("lead_id", flat=True)
    muted = set(cast("list[int]", await mutes))
    state = t(N_("open")) if webinar.chat_open else t(N_("closed"))
    head = t(N_("Chat of “{title}” ({state})")).format(title=webinar.title, state=state)
    lines = [f"<b>💬 {html.escape(head)}</b>", ""]
    rows: list[tuple[Button, ...]] = []
    if not messages:
        lines.append(html.escape(t(N_("No messages yet."))))

    def button(label: str, action: str, item: int = 0) -> Button:
        data = ChatModeration(webinar_id=webinar.id, action=action, item=item)  # type: ignore[arg-type]
        return Button(label, callback=data.pack())

    for n, message in enumerate(messages, 1):
        mark = "🎙 " if message.from_speaker else ("🔇 " if message.lead_id in muted else "")
        text = html.escape(fit_plain(message.text, TEXT_SHOWN))
        lines.append(f"{n}. {mark}<b>{html.escape(message.author_name)}</b>: {text}")
        row = [button(f"🗑 {n}", "del", message.id)]
        if message.lead_id is not None:
            if message.lead_id in muted:
                row.append(button(f"🔊 {n}", "unmute", message.id))
            else:
                row.append(button(f"🔇 {n}", "mute", message.id))
        rows.append(tuple(row))
    toggle = (
        button("🔒 " + t(N_("Close the chat")), "close")
        if webinar.chat_open
        else button("🔓 " + t(N_("Open the chat")), "open")
    )
    rows.append((toggle, button("🔄 " + t(N_("Refresh")), "refresh")))
    return "\n".join(lines), tuple(rows)


@router.callback_query(ChatModeration.filter())
async def moderate(
    query: CallbackQuery,
    callback_data: ChatModeration,
    user: User,
    t: Translate,
    reply: Reply,
    hub: SignalHub,
    clock: Clock,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    webinar = await Webinar.get_or_none(id=callback_data.webinar_id)
    if webinar is None:
        await query.answer(t(N_("This button is not valid.")), show_alert=True)
        return
    if not chat_exists(webinar):
        await query.answer(
            t(N_("The chat is open only while the webinar is live.")), show_alert=True
        )
        return
    try:
        notice = await _apply(callback_data, webinar, user, t, hub, clock)
    except NoSuchMessage:
        notice = t(N_("This button is not valid."))
    except NotAllowed:  # withdrawn between the check and the command
        notice = refusal(t, NEED)
    webinar = await Webinar.get(id=webinar.id)  # the chat's state after the press
    text, buttons = await chat_screen(webinar, t)
    if callback_data.action == "show" or query.message is None:
        await reply(text, buttons)
    else:
        await reply.edit(query.message.message_id, text, buttons)
    await query.answer(notice)


async def _apply(
    data: ChatModeration, webinar: Webinar, user: User, t: Translate, hub: SignalHub, clock: Clock
) -> str:
    """Do what the press asks; the line to answer it with ("" for nothing to say)."""
    action, wid = data.action, webinar.id
    if action == "del":
        done = await delete_message(hub, clock, wid, data.item, actor=user)
        return t(N_("Deleted for everyone.") if done else N_("It was deleted already."))
    if action in ("mute", "unmute"):
        lead_id = await author_lead(wid, data.item)
        if lead_id is None:
            return t(N_("A speaker wrote this: speakers are not muted."))
        if action == "mute":
            done = await mute(hub, clock, wid, lead_id, actor=user)
            return t(N_("Muted: they can still watch and read.") if done else N_("Muted already."))
        done = await unmute(hub, clock, wid, lead_id, actor=user)
        return t(N_("They can write again.") if done else N_("They were not muted."))
    if action in ("close", "open"):
        done = await set_chat_open(hub, clock, wid, action == "open", actor=user)
        if action == "open":
            return t(N_("The chat is open.") if done else N_("The chat was open already."))
        return t(N_("The chat is closed.") if done else N_("The chat was closed already."))
    return ""
