"""Pictures that live in Telegram (an approved speaker photo is a Telegram `file_id`),
fetched once through the bot and kept in memory for the pages that show them.

`main.py` gives the cache its `fetch` once the bot exists; until then (and when Telegram
does not answer) a page simply shows no photo.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[bytes]]
MAX_ENTRIES = 64
MAX_BYTES = 5 * 1024 * 1024
_TYPES = ((b"\xff\xd8", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"))


class PhotoCache:
    def __init__(self, fetch: Fetch | None = None) -> None:
        self.fetch = fetch
        self._kept: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    async def get(self, file_id: str) -> tuple[bytes, str] | None:
        """(bytes, MIME type) of the picture, or None when it cannot be had (or is no image)."""
        if file_id in self._kept:
            self._kept.move_to_end(file_id)
            return self._kept[file_id]
        if self.fetch is None:
            return None
        try:
            data = await self.fetch(file_id)
        except Exception:  # Telegram down, the file gone: the page goes on without it
            log.warning("photo %s could not be fetched", file_id[:16], exc_info=True)
            return None
        mime = next((m for magic, m in _TYPES if data.startswith(magic)), None)
        if mime is None or len(data) > MAX_BYTES:
            return None
        self._kept[file_id] = (data, mime)
        while len(self._kept) > MAX_ENTRIES:
            self._kept.popitem(last=False)
        return data, mime
