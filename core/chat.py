"""The internal chat of an obs webinar's room: who may post, delete, mute, close; limits.

The room calls this, and later the bot's speaker screen; none decides on its own.

- Posting: a viewer (as their lead) or a speaker, only while the webinar is live and its
  internal chat exists (obs with chat on: two chats for one webinar are forbidden). A
  viewer may not post while the chat is closed or while muted, nor faster than
  `FLOOD_LIMIT` messages per `FLOOD_PERIOD` seconds; speakers may (they announce and
  answer). A message is cleaned of control and invisible characters and holds at most
  `TEXT_MAX` characters. A refusal is a `ChatRefused` with a msgid the room shows.
- Moderation: every user with `webinar_manage_chat` — any speaker, not only the host —
  deletes any message, mutes and unmutes a viewer, closes and opens the chat. Each action
  is stored with its event (`core_webinar_chat_*`) in one transaction and applied once:
  a second press is told it was already done. The hub's consumer pushes it to the rooms.

A viewer's name in the chat is the first word of the name they registered with: the
other viewers do not need their surname.

AUTO sessions have this same chat (their stream is our embedded player; chat on per
series), moderated the same way. A series may name its original live run
(`AutoSeries.replay_chat_from`): `ChatReplay` then copies that run's messages into each
live session when the session's timeline reaches their offset from the run's start.
A copy has no lead and no user — nobody wrote it here — and points at its original
(`replay_of`, unique per session, so a restart or a second process replays each once);
it is stored like any message so a joining or reconnecting room gets it from history
and a speaker can delete it; rooms show it marked as from the original broadcast.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.actors import actor_name
from core.bulk import insert_rows
from core.clock import Clock
from core.events import (
    CoreWebinarChatClosed,
    CoreWebinarChatMessageDeleted,
    CoreWebinarChatMuted,
    CoreWebinarChatOpened,
    CoreWebinarChatUnmuted,
)
from core.hub import SignalHub
from core.live import LiveEvent, LiveRooms
from core.present import public_name
from core.roles import Capability, can
from core.users import NotAllowed
from locales import N_
from models import (
    AutoSeries,
    ChatMessage,
    ChatMute,
    LeadEntry,
    StreamType,
    User,
    Webinar,
    WebinarKind,
    WebinarStatus,
)

TEXT_MAX = 500
NAME_MAX = 40
FLOOD_LIMIT = 5  # messages …
FLOOD_PERIOD = 15.0  # … per this many seconds, per viewer
HISTORY = 50  # messages a newly opened room shows
WRITE_BATCH = 500  # messages stored in one INSERT at most
CATCH_UP = 500  # at most this many missed messages are sent to a reconnecting room
DELETED_WINDOW = 200  # a reconnecting room re-learns deletions among this many


class Refusal(StrEnum):
    NO_CHAT = "no_chat"
    CLOSED = "closed"
    MUTED = "muted"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    FLOOD = "flood"


REASONS: dict[Refusal, str] = {
    Refusal.NO_CHAT: N_("The chat is open only while the webinar is live."),
    Refusal.CLOSED: N_("The speaker has closed the chat for now."),
    Refusal.MUTED: N_("A speaker has muted you in this chat. You can still watch and read."),
    Refusal.EMPTY: N_("Write something first."),
    Refusal.TOO_LONG: N_("A message can be at most {limit} characters long."),
    Refusal.FLOOD: N_("You are writing too fast. Please wait {seconds} s and send it again."),
}


class ChatRefused(Exception):
    """The message was not posted; `text` is the msgid to show, with `params`."""

    def __init__(self, reason: Refusal, **params: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.params = params

    @property
    def msgid(self) -> str:
        return REASONS[self.reason]


class NoSuchMessage(LookupError):
    """No such message in this webinar's chat."""


class Limiter(Protocol):
    def hit(self, key: str) -> int:
        """Count one attempt for `key`; 0 when allowed, else the seconds to wait."""
        ...


@dataclass(frozen=True)
class Author:
    """Who writes: a viewer (their lead) or a speaker (their user)."""

    name: str
    lead_id: int | None = None
    user_id: int | None = None
    speaker: bool = False

    @property
    def who(self) -> str:
        """The key the live broadcaster and the flood limit know this person by."""
        return f"user:{self.user_id}" if self.lead_id is None else f"lead:{self.lead_id}"


def clean(text: str, *, multiline: bool) -> str:
    """Without control, invisible and bidi-override characters; lines kept if asked."""
    kept = []
    for char in text.replace("\r\n", "\n"):
        if char == "\n" and multiline:
            kept.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") or char in (
            "\u2028",
            "\u2029",
        ):
            continue
        else:
            kept.append(char)
    lines = "".join(kept).strip().split("\n")
    out: list[str] = []
    for line in lines:  # at most one empty line in a row
        if line.strip() or (out and out[-1].strip()):
            out.append(line.rstrip())
    return "\n".join(out).strip()


def lead_author(lead: LeadEntry) -> Author:
    first = clean(lead.name, multiline=False).split(" ", 1)[0][:NAME_MAX]
    return Author(name=first, lead_id=lead.id)


def speaker_author(user: User) -> Author:
    name = public_name(user)
    if not name and user.username:
        name = f"@{user.username}"
    return Author(name=clean(name, multiline=False)[:NAME_MAX], user_id=user.id, speaker=True)


def message_json(message: ChatMessage) -> dict[str, Any]:
    """A message as rooms get it (no lead or user ids: viewers see names only); a
    replayed one says so (`replay`)."""
    found: dict[str, Any] = {
        "id": message.id,
        "author": message.author_name,
        "text": message.text,
        "at": message.at,
        "speaker": message.from_speaker,
    }
    if message.replay_of_id is not None:
        found["replay"] = True
    return found


def message_event(message: ChatMessage) -> LiveEvent:
    return LiveEvent("message", message_json(message), id=message.id)


def chat_exists(webinar: Webinar) -> bool:
    """The internal chat is on (obs, chat enabled) and the webinar is live."""
    return (
        StreamType(webinar.stream_type) is StreamType.OBS
        and webinar.chat_enabled
        and WebinarStatus(webinar.status) is WebinarStatus.LIVE
    )


async def is_muted(webinar_id: int, lead_id: int) -> bool:
    return await ChatMute.filter(webinar_id=webinar_id, lead_id=lead_id).exists()


class ChatPoster:
    """Posting, with the flood limit and the live push. One per process.

    Messages are stored by one writer, in batches: every post waiting while a batch is
    being written goes into the next one (one INSERT, one commit), so a busy room needs
    one commit per batch, not per message. The writer pushes each batch to the rooms
    right after its commit, in the order of the ids — which is what a reconnecting room's
    `Last-Event-ID` counts on — and only then answers the posters.
    """

    def __init__(self, clock: Clock, live: LiveRooms, limiter: Limiter) -> None:
        self._clock = clock
        self._live = live
        self._limiter = limiter
        self._pending: list[tuple[dict[str, Any], asyncio.Future[ChatMessage]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def post(self, webinar: Webinar, author: Author, text: str) -> ChatMessage:
        """Store and push one message; raises `ChatRefused` (nothing stored). `webinar`
        as read for this request."""
        await self.check(webinar, author)
        if len(text) > TEXT_MAX * 4:  # not worth cleaning
            raise ChatRefused(Refusal.TOO_LONG, limit=TEXT_MAX)
        body = clean(text, multiline=True)
        if not body:
            raise ChatRefused(Refusal.EMPTY)
        if len(body) > TEXT_MAX:
            raise ChatRefused(Refusal.TOO_LONG, limit=TEXT_MAX)
        if not author.speaker and (wait := self._limiter.hit(f"{webinar.id}:{author.who}")):
            raise ChatRefused(Refusal.FLOOD, seconds=wait)
        row = {
            "webinar_id": webinar.id,
            "lead_id": author.lead_id,
            "user_id": author.user_id,
            "author_name": author.name,
            "from_speaker": author.speaker,
            "text": body,
            "at": self._clock.now(),
        }
        stored: asyncio.Future[ChatMessage] = asyncio.get_running_loop().create_future()
        self._pending.append((row, stored))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await stored

    async def _write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:WRITE_BATCH], self._pending[WRITE_BATCH:]
                try:
                    async with in_transaction() as connection:
                        ids = await insert_rows(connection, ChatMessage, [r for r, _ in batch])
                except Exception as exc:
                    for _, stored in batch:
                        if not stored.done():
                            stored.set_exception(exc)
                    continue
                for (row, stored), message_id in zip(batch, ids, strict=True):
                    message = ChatMessage(id=message_id, **row)
                    self._live.publish(message.webinar_id, message_event(message))
                    if not stored.done():  # the poster may have gone; the message stays
                        stored.set_result(message)
        except BaseException:
            for _, stored in self._pending:  # stopping: nobody waits for a write to come
                stored.cancel()
            self._pending.clear()
            raise
        finally:
            self._writer = None

    async def check(self, webinar: Webinar, author: Author) -> None:
        """Raise `ChatRefused` when `author` may not post now. `webinar` must be fresh
        (read for this request): its status and chat state decide."""
        if not chat_exists(webinar):
            raise ChatRefused(Refusal.NO_CHAT)
        if author.speaker:
            return
        if not webinar.chat_open:
            raise ChatRefused(Refusal.CLOSED)
        if author.lead_id is not None and await is_muted(webinar.id, author.lead_id):
            raise ChatRefused(Refusal.MUTED)


async def history(webinar_id: int, after: int | None = None) -> list[ChatMessage]:
    """Messages not deleted, oldest first: the last `HISTORY`, or those after `after` (a
    reconnect: what the room missed; the newest `CATCH_UP` of them)."""
    query = ChatMessage.filter(webinar_id=webinar_id, deleted_at__isnull=True)
    if after is None:
        return list(reversed(await query.order_by("-id").limit(HISTORY)))
    return list(reversed(await query.filter(id__gt=after).order_by("-id").limit(CATCH_UP)))


async def message_count(webinar_id: int) -> int:
    """Messages in the chat now (deleted ones not counted): the speaker's live panel."""
    return await ChatMessage.filter(webinar_id=webinar_id, deleted_at__isnull=True).count()


async def deleted_ids(webinar_id: int, upto: int) -> list[int]:
    """Deleted messages among the last `DELETED_WINDOW` up to `upto`: a room that was away
    may still show them."""
    recent = (
        ChatMessage.filter(webinar_id=webinar_id, id__lte=upto)
        .order_by("-id")
        .limit(DELETED_WINDOW)
        .values_list("id", "deleted_at")
    )
    rows = cast("list[tuple[int, float | None]]", await recent)
    return sorted(mid for mid, deleted_at in rows if deleted_at is not None)


# ---- replay of the original live run in AUTO sessions --------------------------------


class ChatReplay:
    """Each tick, copy the due messages of the original run into the live AUTO sessions
    and push them to their rooms. One per process; run every second or so."""

    def __init__(self, clock: Clock, live: LiveRooms) -> None:
        self._clock = clock
        self._live = live

    async def tick(self) -> int:
        """The number of messages replayed."""
        rows = await Webinar.filter(
            kind=WebinarKind.AUTO,
            status=WebinarStatus.LIVE,
            stream_type=StreamType.OBS,
            chat_enabled=True,
            series_id__not_isnull=True,
        ).values_list("id", "starts_at", "series_id")
        if not rows:
            return 0
        sources = dict(
            await AutoSeries.filter(
                id__in={series_id for _, _, series_id in rows}, replay_chat_from_id__not_isnull=True
            ).values_list("id", "replay_chat_from_id")
        )
        count = 0
        for session_id, starts_at, series_id in rows:
            if (source_id := sources.get(series_id)) is not None:
                for message in await replay_due(self._clock, session_id, starts_at, source_id):
                    self._live.publish(session_id, message_event(message))
                    count += 1
        return count


async def replay_due(
    clock: Clock, session_id: int, starts_at: float, source_id: int
) -> list[ChatMessage]:
    """Store the source's messages whose offset the session has reached, not yet copied.

    The offset is from the source's real start (its chat opened then) to the message;
    the copy is dated at the session's start plus that offset. At most `WRITE_BATCH` a
    call, oldest first; [] when another process copied them first.
    """
    source = await Webinar.get_or_none(id=source_id)
    if source is None:
        return []
    origin = source.started_at if source.started_at is not None else source.starts_at
    elapsed = clock.now() - starts_at
    copied = cast(
        "list[int]",
        await ChatMessage.filter(webinar_id=session_id, replay_of_id__not_isnull=True)
        .order_by("-replay_of_id")
        .limit(1)
        .values_list("replay_of_id", flat=True),
    )
    due = (
        await ChatMessage.filter(
            webinar_id=source_id, deleted_at__isnull=True, at__lte=origin + elapsed
        )
        .filter(id__gt=int(copied[0]) if copied else 0)
        .order_by("id")
        .limit(WRITE_BATCH)
    )
    rows = [
        {
            "webinar_id": session_id,
            "lead_id": None,
            "user_id": None,
            "author_name": m.author_name,
            "from_speaker": m.from_speaker,
            "text": m.text,
            "at": starts_at + max(0.0, m.at - origin),
            "replay_of_id": m.id,
        }
        for m in due
    ]
    if not rows:
        return []
    try:
        async with in_transaction() as connection:
            ids = await insert_rows(connection, ChatMessage, rows)
    except IntegrityError:  # another process replayed them first (and pushed them)
        return []
    return [ChatMessage(id=i, **row) for i, row in zip(ids, rows, strict=True)]


# ---- moderation ---------------------------------------------------------------------


async def _moderator(actor: User) -> str:
    if not await can(actor, Capability.WEBINAR_MANAGE_CHAT):
        raise NotAllowed(Capability.WEBINAR_MANAGE_CHAT)
    return actor_name(actor)


async def delete_message(
    hub: SignalHub, clock: Clock, webinar_id: int, message_id: int, *, actor: User
) -> bool:
    """Delete a message for everyone; False when it was deleted already."""
    who = await _moderator(actor)
    now = clock.now()
    async with hub.transaction() as tx:
        conn = tx.connection
        message = await ChatMessage.get_or_none(id=message_id, webinar_id=webinar_id, using_db=conn)
        if message is None:
            raise NoSuchMessage(message_id)
        taken = (
            await ChatMessage.filter(id=message_id, deleted_at__isnull=True)
            .using_db(conn)
            .update(deleted_at=now, deleted_by_id=actor.id)
        )
        if taken:
            await tx.publish(
                CoreWebinarChatMessageDeleted(
                    timestamp=int(now),
                    webinar_id=str(webinar_id),
                    message_id=message_id,
                    lead_id=message.lead_id,
                    actor=who,
                    actor_user_id=actor.id,
                )
            )
    return bool(taken)


async def author_lead(webinar_id: int, message_id: int) -> int | None:
    """The lead who wrote a message (None: a speaker wrote it); raises `NoSuchMessage`."""
    message = await ChatMessage.get_or_none(id=message_id, webinar_id=webinar_id)
    if message is None:
        raise NoSuchMessage(message_id)
    return message.lead_id


async def mute(hub: SignalHub, clock: Clock, webinar_id: int, lead_id: int, *, actor: User) -> bool:
    """Mute a viewer in one webinar's chat; False when they were muted already."""
    who = await _moderator(actor)
    now = clock.now()
    try:
        async with hub.transaction() as tx:
            conn = tx.connection
            if (
                await ChatMute.filter(webinar_id=webinar_id, lead_id=lead_id)
                .using_db(conn)
                .exists()
            ):
                return False
            await ChatMute.create(
                webinar_id=webinar_id, lead_id=lead_id, by_user_id=actor.id, at=now, using_db=conn
            )
            await tx.publish(
                CoreWebinarChatMuted(
                    timestamp=int(now),
                    webinar_id=str(webinar_id),
                    lead_id=lead_id,
                    actor=who,
                    actor_user_id=actor.id,
                )
            )
    except IntegrityError:  # another speaker muted them at the same moment
        return False
    return True


async def unmute(
    hub: SignalHub, clock: Clock, webinar_id: int, lead_id: int, *, actor: User
) -> bool:
    """Let a muted viewer post again; False when they were not muted."""
    who = await _moderator(actor)
    now = clock.now()
    async with hub.transaction() as tx:
        conn = tx.connection
        taken = (
            await ChatMute.filter(webinar_id=webinar_id, lead_id=lead_id).using_db(conn).delete()
        )
        if taken:
            await tx.publish(
                CoreWebinarChatUnmuted(
                    timestamp=int(now),
                    webinar_id=str(webinar_id),
                    lead_id=lead_id,
                    actor=who,
                    actor_user_id=actor.id,
                )
            )
    return bool(taken)


async def set_chat_open(
    hub: SignalHub, clock: Clock, webinar_id: int, is_open: bool, *, actor: User
) -> bool:
    """Open or close the chat; False when it already was (or the webinar has no chat)."""
    who = await _moderator(actor)
    now = clock.now()
    async with hub.transaction() as tx:
        taken = (
            await Webinar.filter(id=webinar_id, chat_enabled=True, chat_open=not is_open)
            .using_db(tx.connection)
            .update(chat_open=is_open, updated_at=now)
        )
        if taken:
            kind = CoreWebinarChatOpened if is_open else CoreWebinarChatClosed
            await tx.publish(
                kind(
                    timestamp=int(now),
                    webinar_id=str(webinar_id),
                    actor=who,
                    actor_user_id=actor.id,
                )
            )
    return bool(taken)
