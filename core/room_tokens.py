"""Signed room links: a lead's personal link and a speaker's link into one webinar's room.

A token is `<subject id>.<MAC>`: the MAC is HMAC-SHA256 with `SECRET_KEY` over the kind
(lead or speaker), the webinar's id and the subject's id, cut to 128 bits. So a token
opens one room for one person: it cannot be altered to name another lead, replayed in
another webinar's room, or passed off as the other kind (a lead's token is no speaker's).

The expiry is not inside the token but derived from the webinar when the link is used:
valid until `LINK_GRACE` after the planned end (or the real end, if it ran longer). A
rescheduled webinar thus keeps the links already sent in Telegram working, and the same
link can be minted again at any time (the bot's `/webinars`, a reminder) without
invalidating earlier copies. Rotating `SECRET_KEY` revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from models import Webinar

LINK_GRACE = 7 * 24 * 3600  # the closing screen and recording stay reachable a week
_MAC_CHARS = 22  # 128 bits in URL-safe base64
_TOKEN = re.compile(r"^([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{22})$")


class TokenKind(StrEnum):
    LEAD = "lead"
    SPEAKER = "speaker"


def link_expires_at(webinar: Webinar) -> float:
    """Until when the room links of `webinar` are accepted (unix seconds)."""
    return max(webinar.ends_at, webinar.ended_at or 0.0) + LINK_GRACE


@dataclass(frozen=True)
class RoomTokens:
    """Mints and reads room tokens with the deployment's secret."""

    secret: str

    def mint(self, kind: TokenKind, webinar_id: int, subject_id: int) -> str:
        return f"{subject_id}.{self._mac(kind, webinar_id, subject_id)}"

    def read(self, kind: TokenKind, webinar_id: int, token: str) -> int | None:
        """The subject (lead or user id) `token` names for this webinar, or None if forged."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        subject_id = int(match[1])
        expected = self._mac(kind, webinar_id, subject_id).encode()
        return subject_id if hmac.compare_digest(match[2].encode(), expected) else None

    def _mac(self, kind: TokenKind, webinar_id: int, subject_id: int) -> str:
        if not self.secret:
            raise RuntimeError("room links need SECRET_KEY")
        message = f"room-{kind.value}\0{webinar_id}\0{subject_id}".encode()
        digest = hmac.new(self.secret.encode(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]
