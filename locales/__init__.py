"""Gettext catalogues and the locale registry, shared by all; imports nothing of ours.

The catalogues (domain `messages`) are shared by the web pages, the bot and the scenarios.
`LOCALES` is the one list of the languages we speak: whatever offers, accepts or checks a
locale asks this module (`LOCALES`, `pick`, `NATIVE_NAMES`).

The `.po` files are the source of truth and are compiled in memory at start-up, so there
is no build step and no stale `.mo` file can ever be served. Russian comes first
and is the default; msgids are English.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
# Russian first: the default, and the first in every language choice offered.
LOCALES: tuple[str, ...] = ("ru", "en")
# Each language by its own name, as a person looking for theirs reads it.
NATIVE_NAMES: Mapping[str, str] = {"ru": "Русский", "en": "English"}
LOCALES_DIR = Path(__file__).resolve().parent


def N_(message: str) -> str:
    """Mark `message` as a msgid for extraction; it is translated where it is shown."""
    return message


def pick(*candidates: str | None, default: str) -> str:
    """The first of `candidates` we speak (`en-US` → `en`), else `default`."""
    for candidate in candidates:
        code = (candidate or "")[:2].lower()
        if code in LOCALES:
            return code
    return default


class Catalogue(gettext.GNUTranslations):
    """A compiled catalogue that also knows which msgids it translates."""

    def __init__(self, fp: BinaryIO, msgids: frozenset[str]) -> None:
        super().__init__(fp)
        self.msgids = msgids


def po_path(locale: str, path: Path = LOCALES_DIR) -> Path:
    return path / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalogues(path: Path = LOCALES_DIR) -> dict[str, Catalogue]:
    """Every `<locale>/LC_MESSAGES/messages.po` under `path`, compiled in memory."""
    catalogues: dict[str, Catalogue] = {}
    for po in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        locale = po.parent.parent.name
        with po.open("rb") as fileobj:
            catalog = read_po(fileobj, locale=locale, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
        buffer.seek(0)
        # What the compiled catalogue translates: a plain (no context, not plural) msgid
        # with a translation that is not fuzzy — what `write_mo` keeps of it.
        msgids = frozenset(
            m.id
            for m in catalog
            if m.id and isinstance(m.id, str) and m.context is None and m.string and not m.fuzzy
        )
        catalogues[locale] = Catalogue(buffer, msgids)
    return catalogues


def load_translations(path: Path = LOCALES_DIR) -> dict[str, gettext.GNUTranslations]:
    """The same catalogues, typed as plain gettext translations (web pages, aiogram).

    For aiogram's `I18n`, override its `find_locales` to return this (it would otherwise
    look for compiled `.mo` files).
    """
    return dict(load_catalogues(path))


def negotiate(accept_language: str, available: tuple[str, ...], default: str) -> str:
    """The best of `available` for an `Accept-Language` header, else `default`."""
    best, best_q = default, 0.0
    for position, item in enumerate(accept_language.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-", 1)[0]
        # Equal weights: the earlier entry wins (the browser's own order).
        q -= position * 1e-6
        if lang in available and q > best_q:
            best, best_q = lang, q
    return best
