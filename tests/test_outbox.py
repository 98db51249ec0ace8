"""The outbox: once, in order, within Telegram's limits, through 429, 403 and 5xx."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.setup import create_bot
from core.clock import FakeClock
from core.hub import SignalHub
from core.settings import Settings
from delivery.outbox import Button, OutgoingMessage, enqueue, enqueue_many
from delivery.pacing import RealTime
from delivery.sender import CONCURRENCY as SENDER_CONCURRENCY
from delivery.sender import OutboxSender
from models import EventRecord, OutboxMessage, OutboxStatus, Priority, TelegramChat
from sandbox import ApiCall, BotApiError, FakeTelegram, RateLimiter, RateLimits

TOKEN = "42:outbox-test"


class FastTime(RealTime):
    """Pacing time running `scale` times faster than the wall clock (both sides share it)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.scale)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeTelegram, str]]:
    tg = FakeTelegram(TOKEN)
    async with tg.serve() as base:
        yield tg, base


def started_users(tg: FakeTelegram, n: int) -> list[int]:
    ids = []
    for i in range(n):
        user = tg.create_user(f"User {i}")
        tg.send_start(user.id)
        ids.append(user.id)
    return ids


async def put(hub: SignalHub, clock: FakeClock, key: str, chat_id: int, text: str, **kw) -> bool:
    async with hub.transaction() as tx:
        return await enqueue(
            tx.connection, clock, key=key, message=OutgoingMessage(chat_id, text), **kw
        )


def texts(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [m["text"] for m in tg.bot_messages(chat_id)]


async def make_sender(base: str, hub: SignalHub, clock: FakeClock, settings: Settings, **kw):
    bot = create_bot(TOKEN, base)
    return bot, OutboxSender(bot, hub, clock, settings, **kw)


async def test_messages_arrive_once_in_order_with_buttons(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    anna, boris = started_users(tg, 2)
    button = Button("Open", url="https://example.com/room")
    async with hub.transaction() as tx:
        msg = OutgoingMessage(anna, "<b>first</b> &amp; escaped", buttons=((button,),))
        await enqueue(tx.connection, clock, key="a1", message=msg)
    await put(hub, clock, "a2", anna, "second")
    await put(hub, clock, "b1", boris, "hello")
    assert not await put(hub, clock, "a1", anna, "first again")  # same key: not queued

    bot, sender = await make_sender(base, hub, clock, settings, pace=FastTime(10))
    await sender.drain()
    await bot.session.close()

    assert texts(tg, anna) == ["first & escaped", "second"]
    assert texts(tg, boris) == ["hello"]
    first = tg.bot_messages(anna)[0]
    assert first["entities"][0]["type"] == "bold"
    assert first["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.com/room"
    rows = await OutboxMessage.all().order_by("id")
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 3
    assert all(r.message_id for r in rows)


async def test_a_429_is_obeyed_and_nothing_is_lost(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    (anna,) = started_users(tg, 1)
    refused: list[float] = []

    def flood(call: ApiCall) -> None:
        if call.method == "sendMessage" and not refused:
            refused.append(time.monotonic())
            raise BotApiError(429, "Too Many Requests: retry after 1", retry_after=1)

    tg.interceptors.append(flood)
    await put(hub, clock, "m1", anna, "one")
    await put(hub, clock, "m2", anna, "two")
    bot, sender = await make_sender(base, hub, clock, settings)
    await sender.drain()
    await bot.session.close()

    assert texts(tg, anna) == ["one", "two"]
    sends = [c for c in tg.calls if c.method == "sendMessage" and c.error_code is None]
    assert len(sends) == 2
    assert len(refused) == 1


async def test_a_blocked_user_is_marked_unreachable_once(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    anna, boris = started_users(tg, 2)
    tg.block_bot(anna)
    for i in range(3):
        await put(hub, clock, f"a{i}", anna, f"to anna {i}", lead_id=7)
    await put(hub, clock, "b", boris, "to boris")
    bot, sender = await make_sender(base, hub, clock, settings, pace=FastTime(10))
    await sender.drain()
    await bot.session.close()

    assert texts(tg, boris) == ["to boris"]
    attempts = [c for c in tg.calls if c.method == "sendMessage" and c.chat_id == anna]
    assert len(attempts) == 1  # after the 403 nothing more is tried
    statuses = {row.status for row in await OutboxMessage.filter(chat_id=anna)}
    assert statuses == {OutboxStatus.UNREACHABLE}
    chat = await TelegramChat.get(chat_id=anna)
    assert chat.unreachable_at is not None
    events = await EventRecord.filter(name="telegram_chat_unreachable")
    assert [(e.payload["chat_id"], e.payload["lead_id"]) for e in events] == [(anna, 7)]


async def test_server_errors_are_retried_with_backoff(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    (anna,) = started_users(tg, 1)
    failures = [502, 500]

    def flaky(call: ApiCall) -> None:
        if call.method == "sendMessage" and failures:
            raise BotApiError(failures.pop(0), "Bad Gateway")

    tg.interceptors.append(flaky)
    await put(hub, clock, "m", anna, "eventually")
    bot, sender = await make_sender(base, hub, clock, settings)
    await sender.drain()
    assert texts(tg, anna) == []
    row = await OutboxMessage.get(key="m")
    assert row.status == OutboxStatus.PENDING
    assert row.not_before > clock.now()
    for _ in range(2):
        clock.advance(10)
        await sender.drain()
    await bot.session.close()
    assert texts(tg, anna) == ["eventually"]
    assert (await OutboxMessage.get(key="m")).attempts == 3


async def test_a_bad_request_fails_for_good_without_blocking_others(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    (anna,) = started_users(tg, 1)
    await put(hub, clock, "ghost", 999_999, "to nobody")
    await put(hub, clock, "real", anna, "to anna")
    bot, sender = await make_sender(base, hub, clock, settings, pace=FastTime(10))
    await sender.drain()
    await bot.session.close()
    ghost = await OutboxMessage.get(key="ghost")
    assert ghost.status == OutboxStatus.FAILED
    assert "chat not found" in (ghost.last_error or "")
    assert texts(tg, anna) == ["to anna"]


async def test_a_crash_mid_send_resends_only_that_message(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    (anna,) = started_users(tg, 1)
    await put(hub, clock, "done", anna, "already sent")
    await put(hub, clock, "mid", anna, "caught mid-send")
    await OutboxMessage.filter(key="done").update(status=OutboxStatus.SENT)
    await OutboxMessage.filter(key="mid").update(status=OutboxStatus.SENDING)
    bot, sender = await make_sender(base, hub, clock, settings)
    await sender.recover()
    await sender.drain()
    await bot.session.close()
    assert texts(tg, anna) == ["caught mid-send"]


async def test_limits_hold_while_2000_messages_to_500_chats_drain(
    hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    # Telegram's limits (30/s overall, 1/s per chat) on a time base four times faster
    # than the wall clock, shared by the fake and the sender. (Faster would also scale up
    # the real jitter of each request past the limits' own granularity.)
    pace = FastTime(4)
    tg = FakeTelegram(TOKEN)
    limiter = tg.enforce_limits(RateLimiter(RateLimits(), clock=pace.now))
    chats = started_users(tg, 500)
    async with hub.transaction() as tx:
        for round_ in range(4):
            for chat in chats:
                msg = OutgoingMessage(chat, f"{round_}")
                await enqueue(tx.connection, clock, key=f"{chat}:{round_}", message=msg)
    async with tg.serve() as base:
        bot, sender = await make_sender(base, hub, clock, settings, pace=pace)
        await sender.drain()
        await bot.session.close()

    assert limiter.violations == []
    for chat in chats:
        assert texts(tg, chat) == ["0", "1", "2", "3"]
    assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == 2000
    assert limiter.sent == 2000  # no send was refused or repeated


async def test_time_critical_messages_overtake_bulk(
    fake: tuple[FakeTelegram, str], hub: SignalHub, clock: FakeClock, settings: Settings
) -> None:
    tg, base = fake
    chats = started_users(tg, 60)
    for chat in chats[:-1]:
        await put(hub, clock, f"bulk{chat}", chat, "news", priority=Priority.BULK)
    await put(hub, clock, "reminder", chats[-1], "starts in 10 minutes", priority=Priority.CRITICAL)
    bot, sender = await make_sender(base, hub, clock, settings)
    await sender.drain()
    await bot.session.close()
    order = [c.chat_id for c in tg.calls if c.method == "sendMessage"]
    # The reminder, queued last, goes in the first pass of concurrent sends (the best
    # pacing slot is its own); within that pass a slower database claim may let a bulk
    # message's request land a few milliseconds earlier, so "first" is not guaranteed.
    assert chats[-1] in order[:SENDER_CONCURRENCY], order.index(chats[-1])
    assert len(order) == len(set(order)) == 60


async def test_many_messages_are_queued_once_however_often_a_broadcast_is_retried(
    hub: SignalHub, clock: FakeClock
) -> None:
    messages = [(f"bc:1:to:{chat}", OutgoingMessage(chat, "news")) for chat in range(1, 1201)]
    for _ in range(2):  # the consumer retried after a crash: nothing is added
        async with hub.transaction() as tx:
            await enqueue_many(tx.connection, clock, messages, priority=Priority.BULK)
    rows = await OutboxMessage.filter(key__startswith="bc:1:to:").values_list("chat_id", "priority")
    assert sorted(rows) == [(chat, Priority.BULK) for chat in range(1, 1201)]


async def test_the_sender_stops_whenever_it_is_cancelled(
    hub: SignalHub, clock: FakeClock, settings: Settings, fake: tuple[FakeTelegram, str]
) -> None:
    # A cancellation that lands just as the idle wait is woken (a send finishing during
    # shutdown) must still stop `run()`: asyncio.wait_for on Python 3.11 swallowed it, and
    # shutdown hung for good.
    bot, sender = await make_sender(fake[1], hub, clock, settings, poll_seconds=0.05)
    try:
        for attempt in range(20):
            task = asyncio.create_task(sender.run())
            await asyncio.sleep(0.01)  # idle: waiting to be woken
            sender.notify()
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2)
            assert done, f"run() ignored its cancellation (attempt {attempt})"
    finally:
        await bot.session.close()
