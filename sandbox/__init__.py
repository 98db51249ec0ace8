"""A local Telegram (fake Bot API, `/sandbox` page); imports web/, handlers/ and below, not bot/.

A fake Bot API served by the product itself, and the `/sandbox` page where a person acts as
any Telegram user. Tests use the same fake over HTTP."""

from sandbox.fake import ApiCall, FakeTelegram
from sandbox.limits import RateLimiter, RateLimits
from sandbox.page import setup_sandbox
from sandbox.protocol import BotApiError
from sandbox.world import SandboxUser

__all__ = [
    "ApiCall",
    "BotApiError",
    "FakeTelegram",
    "RateLimiter",
    "RateLimits",
    "SandboxUser",
    "setup_sandbox",
]
