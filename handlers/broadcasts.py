"""Broadcasts: confirming one, queueing its messages, and keeping its progress message true.

`confirm_broadcast` (the bot's Confirm button) confirms a draft (`core.broadcasts.confirm_draft`:
SENDING and `core_broadcast_confirmed`) and queues the progress message to its author, in one
transaction. The
consumer queues one bulk message per recipient chat (keyed, so a retry adds nothing).
`update_broadcast_progress` (an APScheduler job every few seconds) edits the progress
message when the counts moved, and marks the broadcast DONE when nothing is pending.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

from tortoise.functions import Count

from core.broadcasts import (
    PROGRESS_KEY,
    RECIPIENT_KEY,
    author_draft,
    check_complete,
    confirm_draft,
    recipients,
)
from core.clock import Clock
from core.events import CoreBroadcastConfirmed
from core.hub import Delivery, SignalHub
from core.texts import Texts
from delivery.outbox import OutgoingEdit, OutgoingMessage, enqueue, enqueue_many
from handlers.deps import Deps
from locales import N_
from models import Broadcast, BroadcastStatus, OutboxMessage, OutboxStatus, Priority, User

PENDING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
TAG_BATCH = 500  # keys per UPDATE (SQLite's bound parameters)


class BroadcastConsumers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def subscribe(self, hub: SignalHub) -> None:
        # The subscriber's name is stored with each delivery: renaming one is a migration.
        hub.subscribe(
            "core_broadcast_confirmed",
            self.queue_broadcast_messages,
            name="queue_broadcast_messages",
        )

    async def queue_broadcast_messages(self, event: CoreBroadcastConfirmed, d: Delivery) -> None:
        """One bulk message per recipient chat: unique, reachable ones, each keyed."""
        broadcast = await Broadcast.get_or_none(id=event.broadcast_id)
        if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
            return
        chats = await recipients(broadcast.segment)
        keys = [RECIPIENT_KEY.format(id=broadcast.id, chat_id=chat_id) for chat_id in chats]
        async with self.deps.hub.transaction() as tx:
            await enqueue_many(
                tx.connection,
                self.deps.clock,
                (
                    (
                        RECIPIENT_KEY.format(id=broadcast.id, chat_id=chat_id),
                        OutgoingMessage(chat_id, broadcast.text),
                    )
                    for chat_id in chats
                ),
                priority=Priority.BULK,
            )
            # Tagged by the unique key's index (no scan of the outbox); a retry tags the
            # same rows again. From now on `total` is what was queued: progress counts
            # against it, by the (broadcast_id, status) index.
            for start in range(0, len(keys), TAG_BATCH):
                await (
                    OutboxMessage.filter(key__in=keys[start : start + TAG_BATCH])
                    .using_db(tx.connection)
                    .update(broadcast_id=broadcast.id)
                )
            total = (
                await OutboxMessage.filter(broadcast_id=broadcast.id)
                .using_db(tx.connection)
                .count()
            )
            await Broadcast.filter(id=broadcast.id).using_db(tx.connection).update(total=total)


@dataclass(frozen=True)
class Progress:
    sent: int
    failed: int
    pending: int
    queued: int


async def progress_of(broadcast: Broadcast) -> Progress:
    rows = (
        await OutboxMessage.filter(broadcast_id=broadcast.id)
        .group_by("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    statuses: Counter[str] = Counter({str(s): int(n) for s, n in rows})
    pending = sum(statuses[s] for s in PENDING)
    sent = statuses[OutboxStatus.SENT]
    queued = sum(statuses.values())
    return Progress(sent=sent, failed=queued - sent - pending, pending=pending, queued=queued)


def progress_text(
    texts: Texts,
    locale: str,
    broadcast_id: int,
    total: int,
    p: Progress | None,
    *,
    done: bool = False,
) -> str:
    """The author's progress message: started, under way, or done."""
    if p is None:
        text = texts(locale, N_("📣 Broadcast #{id}: sending to {total} recipients…"))
        return html.escape(text.format(id=broadcast_id, total=total))
    if done:
        text = texts(locale, N_("📣 Broadcast #{id}. Done: {sent} sent, {failed} not delivered."))
    else:
        text = texts(
            locale, N_("📣 Broadcast #{id}: {sent} sent, {failed} not delivered, of {total}…")
        )
    return html.escape(text.format(id=broadcast_id, sent=p.sent, failed=p.failed, total=total))


async def update_broadcast_progress(hub: SignalHub, clock: Clock, texts: Texts) -> int:
    """Edit each sending broadcast's progress message whose counts moved; mark finished
    ones DONE. Returns how many edits were queued."""
    edits = 0
    for broadcast in await Broadcast.filter(status=BroadcastStatus.SENDING).order_by("id"):
        progress_row = await OutboxMessage.get_or_none(key=PROGRESS_KEY.format(id=broadcast.id))
        if progress_row is None or progress_row.status in PENDING:
            continue  # the progress message itself is not out yet: nothing to edit
        p = await progress_of(broadcast)
        # Until the consumer has queued the messages, nothing has been queued at all.
        done = p.pending == 0 and p.queued == broadcast.total
        state = f"{p.sent}:{p.failed}" + (":done" if done else "")
        if state == broadcast.progress_shown or (not done and p.sent + p.failed == 0):
            continue
        author = await User.get_or_none(id=broadcast.author_id) if broadcast.author_id else None
        locale = texts.pick(author.locale, author.language_code) if author else texts.default
        text = progress_text(texts, locale, broadcast.id, broadcast.total, p, done=done)
        async with hub.transaction() as tx:
            moved = (
                await Broadcast.filter(
                    id=broadcast.id,
                    status=BroadcastStatus.SENDING,
                    progress_shown=broadcast.progress_shown,
                )
                .using_db(tx.connection)
                .update(
                    progress_shown=state,
                    status=BroadcastStatus.DONE if done else BroadcastStatus.SENDING,
                    finished_at=clock.now() if done else None,
                )
            )
            if not moved:  # another run got there first
                continue
            if progress_row.status == OutboxStatus.SENT and progress_row.message_id is not None:
                key = f"{PROGRESS_KEY.format(id=broadcast.id)}:{p.sent}:{p.failed}"
                edit = OutgoingEdit(progress_row.chat_id, progress_row.message_id, text)
                queued = await enqueue(tx.connection, clock, key=key, message=edit)
                if not queued and done:  # the same counts were shown while under way
                    queued = await enqueue(tx.connection, clock, key=f"{key}:done", message=edit)
                edits += int(queued)
    return edits


async def confirm_broadcast(
    hub: SignalHub,
    clock: Clock,
    texts: Texts,
    locale: str,
    broadcast_id: int,
    actor: User,
    chat_id: int,
) -> int | None:
    """DRAFT → SENDING with its total, the progress message queued to `chat_id` and
    `core_broadcast_confirmed` published, in one transaction. Returns the total; None when
    it is no longer `actor`'s draft (a second press, a cancelled one): nothing happens.
    Raises `IncompleteBroadcast` for a draft without a text (or segment) to send."""
    draft = await author_draft(broadcast_id, actor)
    if draft is None:
        return None
    check_complete(draft.segment, draft.text)
    total = len(await recipients(draft.segment))
    progress = OutgoingMessage(chat_id, progress_text(texts, locale, broadcast_id, total, None))
    async with hub.transaction() as tx:
        # The text checked above is the text confirmed: a change since then takes nothing.
        if not await confirm_draft(tx, clock, draft, total, chat_id, actor):
            return None
        if total:
            key = PROGRESS_KEY.format(id=broadcast_id)
            await enqueue(tx.connection, clock, key=key, message=progress, priority=Priority.NORMAL)
    return total
