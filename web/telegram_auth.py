"""Telegram Mini App `initData`: who opened the room from the bot's button, if anyone.

Telegram signs `initData` with a key derived from the bot's token (HMAC-SHA256 keyed with
"WebAppData"); aiogram's `safe_parse_webapp_init_data` checks that signature. It does not
check the age: initData copied out of a Mini App stays correctly signed for ever, so
`auth_date` must be recent (`MAX_AGE`), and not in the future beyond a little clock skew.
The token is the one the running bot uses (set when it starts: in sandbox mode the local
fake's), never a constant.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data

MAX_AGE = 3600.0  # a Mini App posts its initData as it opens; an hour is plenty
CLOCK_SKEW = 60.0
MAX_LENGTH = 4096  # Telegram's initData is well under 1 KB


@dataclass
class MiniAppAuth:
    """The running bot's token; empty until the bot has started (then nobody is let in)."""

    bot_token: str = ""

    def validate(self, init_data: str, now: float) -> WebAppInitData | None:
        """The data, when Telegram signed it for this bot recently and it names a user."""
        if not self.bot_token or not init_data or len(init_data) > MAX_LENGTH:
            return None
        try:
            data = safe_parse_webapp_init_data(self.bot_token, init_data)
        except ValueError:  # forged, another bot's, or not initData at all
            return None
        age = now - data.auth_date.timestamp()
        if not -CLOCK_SKEW <= age <= MAX_AGE or data.user is None:
            return None
        return data
