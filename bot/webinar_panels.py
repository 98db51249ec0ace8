"""Keeping a speaker's `/webinars` message up to date while a webinar on it is live.

The people in the room (`core/live.LiveRooms.viewers`, this process's open rooms) and the
chat's messages move every second; the speaker's message follows them in place
(`editMessageText` through the outbox), at most once every `THROTTLE` seconds of the
injected clock, and only when what it would show changed. A message stops being followed
when no webinar on it is live any more, when its reader lost `webinar_manage_status`,
when the speaker opens a newer list (one followed message per chat), and when the bot
stops (the loop is cancelled; nothing here needs to survive a restart: `/webinars` shows
the counts afresh).

A list sent in answer to `/webinars` is followed by its outbox key until the sender has
sent it and knows its message id; a list edited after a button press is followed by the
pressed message's id at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.context import Translate
from bot.replies import Replies
from bot.webinar_list import Screen, webinars_screen
from core.clock import Clock
from core.links import Links
from core.live import LiveRooms
from core.roles import Capability, can
from core.texts import Texts
from delivery.outbox import OutgoingEdit, OutgoingMessage
from models import OutboxMessage, OutboxStatus, User

log = logging.getLogger(__name__)

THROTTLE = 5.0  # seconds (injected clock) between two edits of one message
POLL = 1.0  # seconds (real time) between two looks at the followed messages
GONE = (OutboxStatus.FAILED, OutboxStatus.UNREACHABLE, OutboxStatus.CANCELLED)


@dataclass
class Panel:
    chat_id: int
    user_id: int
    locale: str
    shown: tuple[str, object]  # text and buttons last shown
    shown_at: float
    message_id: int | None = None
    key: str = ""  # the outbox row of the message, while its id is not known
    edits: int = 0


class ControlPanels:
    """The followed speaker messages of this process; `run` is its loop."""

    def __init__(
        self,
        clock: Clock,
        replies: Replies,
        texts: Texts,
        links: Links,
        live: LiveRooms,
        timezone: str,
    ) -> None:
        self._clock = clock
        self._replies = replies
        self._texts = texts
        self._links = links
        self.live = live
        self._timezone = timezone
        self._panels: dict[int, Panel] = {}  # chat id → the one message followed there
        self._lock = asyncio.Lock()

    async def screen(self, user: User, t: Translate, *, confirm_cancel: int = 0) -> Screen:
        return await webinars_screen(
            user,
            t,
            clock=self._clock,
            links=self._links,
            live=self.live,
            timezone=self._timezone,
            confirm_cancel=confirm_cancel,
        )

    async def send(self, chat_id: int, user: User, locale: str, key: str, screen: Screen) -> None:
        """Send the list as a new message (answering /webinars), following it if live."""
        message = OutgoingMessage(chat_id, screen.text, buttons=screen.buttons)
        await self._replies.send(key, message)
        self._follow(chat_id, user, locale, screen, key=key)

    async def edit(
        self, chat_id: int, message_id: int, user: User, locale: str, screen: Screen, key: str
    ) -> None:
        """Show the list in a message of ours (after a press), following it if live."""
        edit = OutgoingEdit(chat_id, message_id, screen.text, buttons=screen.buttons)
        await self._replies.send(key, edit)
        self._follow(chat_id, user, locale, screen, message_id=message_id)

    def followed(self, chat_id: int) -> Panel | None:
        return self._panels.get(chat_id)

    def _follow(
        self,
        chat_id: int,
        user: User,
        locale: str,
        screen: Screen,
        *,
        key: str = "",
        message_id: int | None = None,
    ) -> None:
        current = self._panels.get(chat_id)
        if not screen.live:
            if current is not None and (message_id is None or current.message_id == message_id):
                del self._panels[chat_id]
            return
        self._panels[chat_id] = Panel(
            chat_id,
            user.id,
            locale,
            (screen.text, screen.buttons),
            self._clock.now(),
            message_id=message_id,
            key=key,
        )

    async def tick(self) -> int:
        """Edit each followed message whose counts moved and whose pause is over; returns
        how many edits were queued."""
        async with self._lock:
            edits = 0
            for panel in list(self._panels.values()):
                if self._clock.now() - panel.shown_at < THROTTLE:
                    continue
                edits += await self._refresh(panel)
            return edits

    async def _refresh(self, panel: Panel) -> int:
        if panel.message_id is None:
            row = await OutboxMessage.get_or_none(key=panel.key)
            if row is None or row.status in GONE:
                self._drop(panel)
                return 0
            if row.message_id is None:
                return 0  # not sent yet
            panel.message_id = row.message_id
        user = await User.get_or_none(id=panel.user_id)
        if user is None or not await can(user, Capability.WEBINAR_MANAGE_STATUS):
            self._drop(panel)
            return 0
        locale = panel.locale
        screen = await self.screen(user, lambda msgid: self._texts(locale, msgid))
        if not screen.live:
            self._drop(panel)  # the webinar ended: one last edit shows it, then no more
        if (screen.text, screen.buttons) == panel.shown:
            return 0
        panel.edits += 1
        key = f"webinars-panel:{panel.chat_id}:{panel.message_id}:{panel.edits}:{panel.shown_at}"
        edit = OutgoingEdit(panel.chat_id, panel.message_id, screen.text, buttons=screen.buttons)
        await self._replies.send(key, edit)
        panel.shown = (screen.text, screen.buttons)
        panel.shown_at = self._clock.now()
        return 1

    def _drop(self, panel: Panel) -> None:
        if self._panels.get(panel.chat_id) is panel:
            del self._panels[panel.chat_id]

    async def run(self) -> None:
        """Look at the followed messages every `POLL` seconds until cancelled."""
        try:
            while True:
                try:
                    await self.tick()
                except Exception:  # a database hiccup: the next look tries again
                    log.exception("webinar panels: a refresh failed")
                await asyncio.sleep(POLL)
        finally:
            self._panels.clear()
