"""Delivery at Telegram's limits: N messages to N chats through a fake Bot API that
enforces 30 msg/s overall and 1 msg/s per chat (answering 429 past them).

Prints messages/s sustained, 429s, lost and duplicated messages, and how long a
time-critical message queued behind the bulk took from "due" to "sent".

    .venv/bin/python bench/delivery.py               # 10,000 messages (about 6 minutes)
    .venv/bin/python bench/delivery.py --messages 1500
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
from delivery.outbox import OutgoingMessage, enqueue
from delivery.sender import OutboxSender
from models import OutboxMessage, OutboxStatus, Priority
from sandbox import FakeTelegram

TOKEN = "77:bench-delivery"


async def main(messages: int, critical_after: float) -> None:
    async with temp_database() as (_, settings):
        clock = SystemClock()
        hub = SignalHub(clock, dispatch=False)
        tg = FakeTelegram(TOKEN)
        limiter = tg.enforce_limits()
        chats = []
        for i in range(messages + 1):
            user = tg.create_user(f"Reader {i}")
            user.started = True
            chats.append(user.id)
        async with hub.transaction() as tx:
            for i, chat in enumerate(chats[:-1]):
                msg = OutgoingMessage(chat, f"Broadcast #{i}")
                await enqueue(
                    tx.connection, clock, key=f"bulk:{i}", message=msg, priority=Priority.BULK
                )
        sends: list[float] = []
        tg.interceptors.append(
            lambda call: sends.append(time.monotonic()) if call.method == "sendMessage" else None
        )
        async with tg.serve() as base:
            bot = create_bot(TOKEN, base)
            sender = OutboxSender(bot, hub, clock, settings)
            started = time.monotonic()
            task = asyncio.create_task(sender.run())

            await asyncio.sleep(critical_after)
            async with hub.transaction() as tx:
                msg = OutgoingMessage(chats[-1], "The webinar starts in 10 minutes")
                await enqueue(
                    tx.connection, clock, key="critical", message=msg, priority=Priority.CRITICAL
                )
            due = time.monotonic()
            await tg.wait_until(lambda: tg.bot_messages(chats[-1]), timeout=60)
            critical_latency = time.monotonic() - due

            total = messages + 1
            await tg.wait_until(lambda: limiter.sent >= total, timeout=messages / 20 + 60)
            elapsed = time.monotonic() - started
            task.cancel()
            await sender.finish_inflight()
            await bot.session.close()

        per_chat = Counter(
            c.chat_id for c in tg.calls if c.method == "sendMessage" and not c.error_code
        )
        sent_rows = await OutboxMessage.filter(status=OutboxStatus.SENT).count()
        lost = sum(1 for chat in chats if per_chat[chat] == 0)
        duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
        print(f"messages:            {total} to {total} chats")
        sustained = (len(sends) - 1) / (sends[-1] - sends[0])
        print(f"sustained rate:      {sustained:.1f} msg/s (ceiling 30/s)")
        print(f"overall:             {total / elapsed:.1f} msg/s including start-up")
        print(f"429 answers:         {len(limiter.violations)}")
        print(f"lost:                {lost}")
        print(f"duplicates:          {duplicates}")
        print(f"rows marked sent:    {sent_rows}")
        print(f"critical due→sent:   {critical_latency:.2f} s (queued behind the bulk)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--critical-after", type=float, default=20.0, help="seconds")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.critical_after))
