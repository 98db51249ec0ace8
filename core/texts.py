"""Localized texts for the bot and the scenarios, from the shared `locales/` catalogues."""

from __future__ import annotations

from collections.abc import Mapping

from locales import Catalogue, pick


class Texts:
    """`texts(locale, msgid)` → the translation; unknown locales fall back to the default."""

    def __init__(self, translations: Mapping[str, Catalogue], default: str) -> None:
        self._translations = dict(translations)
        self.default = default

    def __call__(self, locale: str, msgid: str) -> str:
        translation = self._translations.get(locale) or self._translations.get(self.default)
        return translation.gettext(msgid) if translation else msgid

    def has(self, msgid: str) -> bool:
        """True when every catalogue translates `msgid` (checked at start-up)."""
        return bool(self._translations) and all(
            msgid in t.msgids for t in self._translations.values()
        )

    def pick(self, *candidates: str | None) -> str:
        """The first supported locale among `candidates` (e.g. `en-US` → `en`)."""
        return pick(*candidates, default=self.default)
