"""Links the product hands out: the bot's deep links and the public pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass
class Links:
    """Built once the bot's username is known (`getMe` at start-up)."""

    base_url: str
    sandbox: bool
    bot_username: str = ""

    def start_link(self, payload: str) -> str:
        """Opens the bot with `/start <payload>`; in sandbox mode, the sandbox as a new user."""
        if self.sandbox:
            return f"{self.base_url}/sandbox?start={quote(payload)}"
        return f"https://t.me/{self.bot_username}?start={quote(payload)}"
