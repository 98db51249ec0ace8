"""Links the product hands out: the bot's deep links and the public pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from core.room_tokens import RoomTokens, TokenKind
from models import Webinar


@dataclass
class Links:
    """Built once the bot's username is known (`getMe` at start-up)."""

    base_url: str
    sandbox: bool
    bot_username: str = ""
    # Signs the personal room links (`core/room_tokens.py`); SECRET_KEY in the service.
    secret_key: str = ""

    def start_link(self, payload: str) -> str:
        """Opens the bot with `/start <payload>`; in sandbox mode, the sandbox as a new user."""
        if self.sandbox:
            return f"{self.base_url}/sandbox?start={quote(payload)}"
        return f"https://t.me/{self.bot_username}?start={quote(payload)}"

    def room_link(self, webinar: Webinar, lead_id: int) -> str:
        """The lead's personal link (tracker v2): records the entry, then opens the room."""
        token = RoomTokens(self.secret_key).mint(TokenKind.LEAD, webinar.id, lead_id)
        return f"{self.base_url}/t/{webinar.id}/{token}"

    def speaker_room_link(self, webinar: Webinar, user_id: int) -> str:
        """A speaker's way into the room as a moderator (they need `webinar_manage_chat`)."""
        token = RoomTokens(self.secret_key).mint(TokenKind.SPEAKER, webinar.id, user_id)
        return f"{self.base_url}/t/{webinar.id}/speaker/{token}"

    def page_url(self, webinar: Webinar) -> str:
        """The webinar's public page, where people register (`/w/<slug>`)."""
        return f"{self.base_url}/w/{quote(webinar.slug)}"

    def room_url(self, webinar: Webinar) -> str:
        """The room itself: the address of the bot's Mini App (`web_app`) button."""
        return f"{self.base_url}/w/{quote(webinar.slug)}/room"
