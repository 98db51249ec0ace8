"""A crowd's "starts in 10 minutes": 5,000 registrants' reminders, due at one instant,
through the real scenario engine, waker and outbox sender to a fake Bot API that enforces
Telegram's limits (30 msg/s overall, 1 msg/s per chat; 429 past them), with a broadcast's
bulk messages already queued ahead of them.

Prints how long the engine took to queue them all, how long the sender took to get the
last one out, the rate, 429s, lost and duplicated reminders, and whether every one left
before the webinar's start (10 minutes after they fell due).

    .venv/bin/python bench/reminders.py                   # 5,000 registrants (about 4 minutes)
    .venv/bin/python bench/reminders.py --registrants 1000 --bulk 1000
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/<name>.py` from anywhere: the project root comes first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import time
from collections import Counter

from bench._setup import temp_database
from bot.setup import create_bot
from core.clock import SystemClock
from core.hub import SignalHub
from core.links import Links
from core.texts import Texts
from delivery.outbox import OutgoingMessage, enqueue_many
from delivery.sender import OutboxSender
from handlers.scenarios import CONDITIONS, MOMENTS
from handlers.webinar_scenarios import WEBINAR_REMINDERS, webinar_params
from locales import load_catalogues
from models import LeadEntry, OutboxMessage, OutboxStatus, Priority, StreamType, Webinar
from sandbox import FakeTelegram
from scheduler import Waker
from scheduler.engine import ScenarioEngine

TOKEN = "77:bench-reminders"
OFFSET = 600  # the "10 minutes" reminder
LEAD_TIME = 20.0  # seconds between the end of the set-up and the reminders falling due


async def progress(reminders: dict[int, float], bulk: list[float]) -> None:
    while True:
        await asyncio.sleep(10)
        queued = await OutboxMessage.filter(status=OutboxStatus.PENDING).count()
        print(f"  … {len(reminders)} reminders and {len(bulk)} bulk sent, {queued} queued")


async def main(registrants: int, bulk: int, verbose: bool) -> None:
    async with temp_database() as (_, settings):
        clock = SystemClock()
        hub = SignalHub(clock, dispatch=False)
        texts = Texts(load_catalogues(), "ru")
        links = Links(base_url="https://funnel.example", sandbox=False, secret_key="k" * 40)
        engine = ScenarioEngine(
            {WEBINAR_REMINDERS.name: WEBINAR_REMINDERS},
            conditions=CONDITIONS,
            moments=MOMENTS,
            hub=hub,
            clock=clock,
            settings=settings,
            translate=texts,
            params=webinar_params(links, texts),
        )
        tg = FakeTelegram(TOKEN)
        limiter = tg.enforce_limits()
        readers = []
        for i in range(registrants + bulk):
            user = tg.create_user(f"Reader {i}")
            user.started = True
            readers.append(user.id)
        chats, others = readers[:registrants], readers[registrants:]

        now = clock.now()
        webinar = await Webinar.create(
            slug="bench",
            title="Как стать партнёром",
            starts_at=now + 86_400,
            duration_min=90,
            tz="Europe/Moscow",
            stream_type=StreamType.OBS,
            stream_url="https://cdn.example.com/live.m3u8",
            reminder_offsets=[OFFSET],
            created_at=now,
            updated_at=now,
        )
        await LeadEntry.bulk_create(
            [
                LeadEntry(
                    name=f"Lead {i}",
                    lead_source="web_form",
                    first_touch_at=int(now),
                    lead_created_at=int(now),
                    chat_id=chat,
                    updated_at=now,
                )
                for i, chat in enumerate(chats)
            ],
            batch_size=1000,
        )
        lead_ids: list[int] = await LeadEntry.all().values_list("id", flat=True)  # type: ignore[assignment]
        for lead_id in lead_ids:
            await engine.start_run(WEBINAR_REMINDERS.name, lead_id, subject=str(webinar.id))
        started = time.monotonic()
        await engine.tick()  # every run now waits for its reminder
        print(f"runs parked:         {registrants} in {time.monotonic() - started:.1f} s")

        async with hub.transaction() as tx:
            messages = [
                (f"bulk:{i}", OutgoingMessage(chat, f"Broadcast #{i}"))
                for i, chat in enumerate(others)
            ]
            await enqueue_many(tx.connection, clock, messages, priority=Priority.BULK)

        due = clock.now() + LEAD_TIME
        start = due + OFFSET
        await Webinar.filter(id=webinar.id).update(starts_at=start)
        await engine.wake_subject(WEBINAR_REMINDERS.name, str(webinar.id))
        await engine.tick()  # the waits move to the new start (as a reschedule does)

        reminder_sent: dict[int, float] = {}
        bulk_sent_at: list[float] = []
        wanted = set(chats)

        def seen(call: object) -> None:
            chat = getattr(call, "chat_id", None)
            if getattr(call, "method", "") != "sendMessage":
                return
            if chat in wanted:
                reminder_sent.setdefault(int(chat), time.time())
            else:
                bulk_sent_at.append(time.time())

        tg.interceptors.append(seen)
        async with tg.serve() as base:
            bot = create_bot(TOKEN, base)
            sender = OutboxSender(bot, hub, clock, settings)
            waker = Waker(engine.tick, engine.next_due, clock)
            engine.on_schedule = waker.schedule
            tasks = [asyncio.create_task(waker.run()), asyncio.create_task(sender.run())]
            if verbose:
                tasks.append(asyncio.create_task(progress(reminder_sent, bulk_sent_at)))
            await tg.wait_until(
                lambda: len(reminder_sent) >= registrants, timeout=LEAD_TIME + OFFSET + 120
            )
            await asyncio.sleep(1.0)  # a duplicate would arrive now
            for task in tasks:
                task.cancel()
            await sender.finish_inflight()
            await bot.session.close()

        per_chat = Counter(
            c.chat_id for c in tg.calls if c.method == "sendMessage" and not c.error_code
        )
        reminders = [per_chat[c] for c in chats]
        first, last = min(reminder_sent.values()), max(reminder_sent.values())
        bulk_before = sum(1 for at in bulk_sent_at if at < due)
        bulk_during = sum(1 for at in bulk_sent_at if first <= at <= last)
        print(f"registrants:         {registrants} (+ {bulk} bulk messages queued before)")
        print(f"first reminder:      {first - due:.2f} s after due")
        print(
            f"last reminder:       {last - due:.1f} s after due ({start - last:.0f} s before start)"
        )
        print(f"reminder rate:       {(registrants - 1) / max(last - first, 1e-9):.1f} msg/s")
        print(f"bulk sent:           {bulk_before} before due, {bulk_during} while reminders went")
        print(f"429 answers:         {len(limiter.violations)}")
        print(f"lost:                {sum(1 for n in reminders if n == 0)}")
        print(f"duplicates:          {sum(n - 1 for n in reminders if n > 1)}")
        print(f"all before start:    {'yes' if last < start else 'NO'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrants", type=int, default=5_000)
    parser.add_argument("--bulk", type=int, default=2_000)
    parser.add_argument("--verbose", action="store_true", help="progress every 10 s")
    args = parser.parse_args()
    asyncio.run(main(args.registrants, args.bulk, args.verbose))
