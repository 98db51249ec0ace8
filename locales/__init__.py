"""Gettext catalogues (domain `messages`), shared by the web pages and the bot.

The `.po` files are the source of truth and are compiled in memory at start-up, so
there is no build step and no stale `.mo` file can ever be served. Russian comes first
and is the default; msgids are English.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
LOCALES: tuple[str, ...] = ("ru", "en")
LOCALES_DIR = Path(__file__).resolve().parent


def N_(message: str) -> str:
    """Mark `message` as a msgid for extraction; it is translated where it is shown."""
    return message


def po_path(locale: str, path: Path = LOCALES_DIR) -> Path:
    return path / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(path: Path = LOCALES_DIR) -> dict[str, gettext.GNUTranslations]:
    """Every `<locale>/LC_MESSAGES/messages.po` under `path`, compiled in memory.

    For aiogram's `I18n`, override its `find_locales` to return this (it would otherwise
    look for compiled `.mo` files).
    """
    translations: dict[str, gettext.GNUTranslations] = {}
    for po in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        locale = po.parent.parent.name
        with po.open("rb") as fileobj:
            catalog = read_po(fileobj, locale=locale, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
        buffer.seek(0)
        translations[locale] = gettext.GNUTranslations(buffer)
    return translations


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
