"""The user's side of the fake Telegram: act as users, read chats, wait for the bot.

Used by the sandbox page and by tests; waiting is event-driven (no sleeps, no polling).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sandbox import users
from sandbox.protocol import Json
from sandbox.world import SandboxGroup, SandboxUser, World


class TelegramDriver:
    """Drive a `World` as its users would. `FakeTelegram` is one."""

    def __init__(self, world: World) -> None:
        self.world = world

    # -- acting as a user -------------------------------------------------------------
    def create_user(
        self,
        first_name: str = "Anna",
        *,
        last_name: str = "",
        username: str = "",
        language_code: str = "ru",
        phone_number: str = "",
    ) -> SandboxUser:
        """A new Telegram user who has not opened the bot yet (`phone_number`: their
        account's number, which `share_contact` sends)."""
        return self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone_number=users.phone_digits(phone_number) if phone_number else "",
        )

    def create_group(self, title: str = "Partners") -> SandboxGroup:
        """A group with the bot in it (the bot may write there)."""
        return self.world.add_group(title)

    def migrate_group(self, group_id: int) -> SandboxGroup:
        """The group is upgraded to a supergroup: sends to its old id answer 400 with
        `migrate_to_chat_id`; returns the supergroup."""
        return self.world.migrate_group(group_id)

    def send_text(self, user_id: int, text: str) -> Json:
        """The user writes `text` to the bot; returns the user's message."""
        return users.send_text(self.world, user_id, text)

    def send_photo(self, user_id: int, data: bytes, caption: str = "") -> Json:
        """The user sends an image with an optional caption (e.g. `/profile`)."""
        return users.send_photo(self.world, user_id, data, caption)

    def send_start(self, user_id: int, payload: str = "") -> Json:
        """The user opens the bot's deep link: `/start <payload>` (or a bare `/start`)."""
        return users.send_start(self.world, user_id, payload)

    def press_button(
        self, user_id: int, message_id: int, *, data: str | None = None, text: str | None = None
    ) -> str:
        """The user presses a callback button; returns the callback query id."""
        return users.press_button(self.world, user_id, message_id, data=data, text=text)

    def share_contact(self, user_id: int, phone_number: str = "") -> Json:
        """The user taps the keyboard's "share my phone number" (`request_contact`) button."""
        return users.share_contact(self.world, user_id, phone_number)

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        first_name: str,
        *,
        contact_user_id: int | None = None,
        forwarded_from: int | None = None,
    ) -> Json:
        """The user sends someone's contact card (from the address book, or forwarded)."""
        return users.send_contact(
            self.world,
            user_id,
            phone_number,
            first_name,
            contact_user_id=contact_user_id,
            forwarded_from=forwarded_from,
        )

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks the bot (sends to them answer 403) or, with False, restarts it."""
        users.set_blocked(self.world, user_id, blocked=blocked)

    # -- what the bot did -------------------------------------------------------------
    def messages(self, chat_id: int) -> list[Json]:
        """A chat's history as its user sees it now (edits applied, deletions gone)."""
        return list(self.world.chat(chat_id).messages.values())

    def bot_messages(self, chat_id: int, *, after: int = 0) -> list[Json]:
        """The bot's messages in a chat with message ids above `after`."""
        bot_id = self.world.bot["id"]
        return [
            m
            for m in self.messages(chat_id)
            if m["from"]["id"] == bot_id and m["message_id"] > after
        ]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a helper that can't hang, and says what came
        *,
        after: int = 0,
    ) -> list[Json]:
        """Wait until the bot has at least `count` messages in the chat after message id
        `after` (typically the user's message it answers); returns all of them."""

        def arrived() -> list[Json] | None:
            found = self.bot_messages(chat_id, after=after)
            return found if len(found) >= count else None

        try:
            async with asyncio.timeout(timeout):
                found: list[Json] = await self.world.wait_until(arrived)
        except TimeoutError:
            got = [m.get("text", m.get("caption")) for m in self.bot_messages(chat_id, after=after)]
            raise TimeoutError(
                f"chat {chat_id}: expected {count} bot message(s) in {timeout}s, got {got}"
            ) from None
        return found

    async def wait_for_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Json:
        """Wait for the bot's answerCallbackQuery to a button press."""
        answer: Json = await self.wait_until(lambda: self.world.answers.get(query_id), timeout)
        return answer

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Any:
        """Wait until `predicate()`, checked at every change of the fake, is truthy;
        returns its value."""
        async with asyncio.timeout(timeout):
            return await self.world.wait_until(predicate)
