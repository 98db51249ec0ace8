"""Localized texts for the bot and the scenarios, from the shared `locales/` catalogues."""

from __future__ import annotations

import gettext
from collections.abc import Mapping

SUPPORTED = ("ru", "en")


class Texts:
    """`texts(locale, msgid)` → the translation; unknown locales fall back to the default."""

    def __init__(self, translations: Mapping[str, gettext.GNUTranslations], default: str) -> None:
        self._translations = dict(translations)
        self.default = default

    def __call__(self, locale: str, msgid: str) -> str:
        translation = self._translations.get(locale) or self._translations.get(self.default)
        return translation.gettext(msgid) if translation else msgid

    def has(self, msgid: str) -> bool:
        """True when every catalogue translates `msgid` (checked at start-up)."""
        return bool(self._translations) and all(
            msgid in t._catalog  # type: ignore[attr-defined]
            for t in self._translations.values()
        )

    def pick(self, *candidates: str | None) -> str:
        """The first supported locale among `candidates` (e.g. `en-US` → `en`)."""
        for candidate in candidates:
            code = (candidate or "")[:2].lower()
            if code in SUPPORTED:
                return code
        return self.default
