"""The sandbox's Telegram, in memory: users, private chats, their history, the update queue.

Everything that changes calls `changed()`, which wakes long polls and test waiters, and
`publish()`, which feeds the live page. Nothing here sleeps or polls.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sandbox.protocol import Json, Params

FIRST_USER_ID = 700_000_001
FIRST_GROUP_NUMBER = 4_000_001  # a group's id is minus this; a supergroup's -100… of it
# Telegram's default when a bot never set allowed_updates: everything but these three.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
HISTORY_LIMIT = 1000  # messages kept per chat; the page never needs more
QUEUE_LIMIT = 256  # live events buffered per page; a page that falls behind reconnects


@dataclass
class SandboxUser:
    """A Telegram user played by a person on the page or by a test."""

    id: int
    first_name: str
    last_name: str = ""
    username: str = ""
    language_code: str = "ru"
    phone_number: str = ""  # the account's number, in digits ("" until the user gives one)
    blocked: bool = False  # the user blocked the bot: sends answer 403
    started: bool = False  # the user has opened the chat (a bot can't write first)

    def to_api(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat(self) -> Json:
        chat: Json = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class SandboxGroup:
    """A group with the bot in it. Upgraded to a supergroup, its old id is answered as
    Telegram answers it: 400 with `parameters.migrate_to_chat_id`."""

    id: int
    title: str
    type: str = "group"
    migrated_to: int | None = None

    def chat(self) -> Json:
        return {"id": self.id, "type": self.type, "title": self.title}


# A chat the bot can write to.
Chat = SandboxUser | SandboxGroup


@dataclass
class StoredFile:
    """A photo or document the bot sent: kept so the page can show it and getFile serve it."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    name: str
    mime_type: str
    data: bytes = b""
    url: str = ""  # sent by URL: the sandbox never fetches it, the page links to it
    width: int = 0
    height: int = 0

    @property
    def path(self) -> str:
        """The `file_path` getFile gives, under which the file is downloaded."""
        suffix = PurePosixPath(self.name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
        return f"{self.kind}s/file_{self.file_unique_id}{suffix}"


@dataclass
class ChatState:
    messages: dict[int, Json] = field(default_factory=dict)  # by message_id, in order
    next_message_id: int = 1
    keyboard: Json | None = None  # the reply keyboard shown under the input, if any
    pages: set[asyncio.Queue[Json | None]] = field(default_factory=set)


class World:
    """The state one fake Telegram holds; `FakeTelegram` serves it over HTTP."""

    def __init__(self, bot: Json, now: Callable[[], float]) -> None:
        self.bot = bot
        self.now = now
        self.users: dict[int, SandboxUser] = {}
        self.groups: dict[int, SandboxGroup] = {}
        self.chats: dict[int, ChatState] = {}
        self.updates: deque[Json] = deque()
        self.allowed_updates: frozenset[str] | None = None  # None: Telegram's default
        self.poll_generation = 0  # a new getUpdates ends the one still waiting (409)
        self.commands: dict[tuple[str, str], list[Json]] = {}  # (scope, language) → list
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, Json] = {}  # pending callback queries by id
        self.answers: dict[str, Json] = {}  # answerCallbackQuery calls by query id
        # Like Telegram's, update ids never repeat, not even after a restart of the sandbox:
        # the bot keys its replies by them.
        self._update_ids = itertools.count(int(time.time() * 1000))
        self._user_ids = itertools.count(FIRST_USER_ID)
        self._group_ids = itertools.count(FIRST_GROUP_NUMBER)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self.file_numbers = itertools.count(1)
        self._changed_event = asyncio.Event()
        self.closed = False

    # -- waiting without polling ------------------------------------------------------
    def changed(self) -> None:
        self._changed_event.set()
        self._changed_event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], Any]) -> Any:
        """Return `predicate()`'s first truthy value, checked after every change."""
        while not (result := predicate()):
            await self._changed_event.wait()
        return result

    def close(self) -> None:
        """Wake every long poll and end every live page (the server is stopping)."""
        self.closed = True
        for chat in self.chats.values():
            for queue in chat.pages:
                _put_latest(queue, None)
        self.changed()

    # -- users and chats --------------------------------------------------------------
    def add_user(self, first_name: str, **fields: Any) -> SandboxUser:
        user = SandboxUser(next(self._user_ids), first_name, **fields)
        self.users[user.id] = user
        return user

    def add_group(self, title: str) -> SandboxGroup:
        group = SandboxGroup(-next(self._group_ids), title)
        self.groups[group.id] = group
        return group

    def migrate_group(self, group_id: int) -> SandboxGroup:
        """The group becomes a supergroup with a new id (`-100…`), as Telegram does it."""
        group = self.groups[group_id]
        supergroup = SandboxGroup(-(10**12) + group.id, group.title, type="supergroup")
        group.migrated_to = supergroup.id
        self.groups[supergroup.id] = supergroup
        return supergroup

    def chat(self, chat_id: int) -> ChatState:
        return self.chats.setdefault(chat_id, ChatState())

    def store(self, chat_id: int, sender: Json, content: Json) -> Json:
        """Append a message to a chat's history and show it on the page."""
        chat = self.chat(chat_id)
        message: Json = {
            "message_id": chat.next_message_id,
            "from": sender,
            "chat": (self.users.get(chat_id) or self.groups[chat_id]).chat(),
            "date": int(self.now()),
            **content,
        }
        chat.next_message_id += 1
        chat.messages[message["message_id"]] = message
        if len(chat.messages) > HISTORY_LIMIT:
            del chat.messages[next(iter(chat.messages))]
        self.publish(chat_id, {"type": "message", "message": message})
        return message

    def publish(self, chat_id: int, event: Json) -> None:
        for queue in self.chat(chat_id).pages:
            _put_latest(queue, event)
        self.changed()

    def subscribe(self, chat_id: int) -> asyncio.Queue[Json | None]:
        """A live feed of a chat's events for one page; `None` means "reconnect"."""
        queue: asyncio.Queue[Json | None] = asyncio.Queue(QUEUE_LIMIT)
        if self.closed:
            queue.put_nowait(None)
        self.chat(chat_id).pages.add(queue)
        return queue

    def unsubscribe(self, chat_id: int, queue: asyncio.Queue[Json | None]) -> None:
        self.chat(chat_id).pages.discard(queue)

    # -- updates ----------------------------------------------------------------------
    def push_update(self, kind: str, payload: Json) -> Json | None:
        """Queue an update for getUpdates, unless the bot's allowed_updates excludes it."""
        allowed = self.allowed_updates
        if (kind not in allowed) if allowed else (kind in OPT_IN_UPDATES):
            return None
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self.changed()
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: forget updates before it (negative: keep the last -offset)."""
        if offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()

    def new_query_id(self) -> str:
        return str(next(self._query_ids))


def _put_latest(queue: asyncio.Queue[Json | None], event: Json | None) -> None:
    # A page that can't keep up loses its backlog and is told to reload its snapshot,
    # rather than making the bot's request wait for a slow browser.
    if queue.full() or event is None:
        while not queue.empty():
            queue.get_nowait()
        event = None
    queue.put_nowait(event)


# A Bot API method: the world, the request's parameters → the `result` of the answer.
Method = Callable[["World", Params], Awaitable[Any]]
