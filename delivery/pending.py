"""Which pending message goes next: per-chat queues and heaps of chats, so picking the next
send costs O(log n) however many chats are waiting (10,000 recipients of a broadcast).

A chat's messages go one at a time in (priority, id) order. Across chats the best head
among chats that may receive now goes first. A chat may not receive while a send to it is
in flight, while it cools down after one (Telegram's per-chat limit, on the monotonic
`pace` clock), or before its head's `not_before` (a retry time, on the injected clock).
Heap entries are validated when popped (lazy deletion), so nothing is ever searched.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class Item:
    priority: int
    id: int
    chat_id: int = field(compare=False)
    not_before: float = field(compare=False)


class PendingMessages:
    def __init__(self, now: Callable[[], float], mono: Callable[[], float]) -> None:
        self._now = now  # the injected clock: `not_before` is on it
        self._mono = mono  # pacing time: chat cool-downs are on it
        self._queues: dict[int, list[Item]] = defaultdict(list)
        self._ready: list[tuple[int, int, int]] = []  # (priority, id, chat) of heads
        self._cooling: list[tuple[float, int]] = []  # (free at, chat)
        self._later: dict[int, float] = {}  # chat → its head's not_before
        self._busy: set[int] = set()
        self._free_at: dict[int, float] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def add(self, item: Item) -> None:
        heapq.heappush(self._queues[item.chat_id], item)
        if item.chat_id not in self._busy:
            heapq.heappush(self._ready, (item.priority, item.id, item.chat_id))

    def take(self, limit: int) -> list[Item]:
        """Up to `limit` messages that may be sent now, best first; their chats turn busy."""
        self._promote()
        taken: list[Item] = []
        mono, now = self._mono(), self._now()
        while self._ready and len(taken) < limit:
            _, item_id, chat = heapq.heappop(self._ready)
            queue = self._queues.get(chat)
            if not queue or queue[0].id != item_id or chat in self._busy:
                continue  # a stale entry: the head changed, or the chat is taken
            if self._free_at.get(chat, 0.0) > mono:
                heapq.heappush(self._cooling, (self._free_at[chat], chat))
                continue
            if queue[0].not_before > now:
                self._later[chat] = queue[0].not_before
                continue
            item = heapq.heappop(queue)
            if not queue:
                del self._queues[chat]
            self._busy.add(chat)
            taken.append(item)
        return taken

    def done(self, chat: int, cool_down: float) -> None:
        """The send to `chat` finished; its next message may go after `cool_down` seconds."""
        self._busy.discard(chat)
        self._free_at[chat] = self._mono() + cool_down
        if self._queues.get(chat):
            heapq.heappush(self._cooling, (self._free_at[chat], chat))
        else:
            self._free_at.pop(chat, None)  # keep the map as small as the queue

    def put_back(self, item: Item) -> None:
        """A message to retry (its chat is still busy; `done` schedules it)."""
        heapq.heappush(self._queues[item.chat_id], item)

    def move_chat(self, old: int, new: int) -> None:
        """The chat has a new id (a group became a supergroup): its queue goes there."""
        for item in self._queues.pop(old, []):
            item.chat_id = new
            heapq.heappush(self._queues[new], item)
        self._later.pop(old, None)
        self._push_head(new)

    def drop_chat(self, chat: int) -> None:
        self._queues.pop(chat, None)
        self._later.pop(chat, None)

    def has_due(self) -> bool:
        """Is anything pending that is not waiting for a retry time?"""
        now = self._now()
        return bool(self._ready or self._cooling or self._busy) or any(
            t <= now for t in self._later.values()
        )

    def seconds_to_next(self, default: float) -> float:
        """How long until a chat cools down or a retry falls due (pace seconds)."""
        waits = [default]
        if self._ready:
            waits.append(0.0)
        if self._cooling:
            waits.append(self._cooling[0][0] - self._mono())
        now = self._now()
        waits += [t - now for t in self._later.values()]
        return max(0.0, min(waits))

    def _promote(self) -> None:
        mono, now = self._mono(), self._now()
        while self._cooling and self._cooling[0][0] <= mono:
            _, chat = heapq.heappop(self._cooling)
            self._push_head(chat)
        for chat in [c for c, t in self._later.items() if t <= now]:
            del self._later[chat]
            self._push_head(chat)

    def _push_head(self, chat: int) -> None:
        queue = self._queues.get(chat)
        if queue and chat not in self._busy:
            heapq.heappush(self._ready, (queue[0].priority, queue[0].id, chat))
