"""Which msgids the code uses: Babel's extractors over Python modules and Jinja2 templates.

Used by the test that keeps the catalogues complete, and handy when adding texts:

    .venv/bin/python -m locales.extract      # lists msgids missing from a catalogue
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po

from locales import LOCALES, LOCALES_DIR, po_path

ROOT = LOCALES_DIR.parent
CODE_DIRS = ("core", "web", "bot", "handlers", "scheduler", "sandbox")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "__": None, "lazy_gettext": None}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "silent": "false"}


def source_files(root: Path = ROOT) -> Iterable[Path]:
    for name in CODE_DIRS:
        folder = root / name
        if folder.is_dir():
            yield from sorted(folder.rglob("*.py"))
            yield from sorted(folder.rglob("*.html"))


def used_msgids(root: Path = ROOT) -> dict[str, str]:
    """msgid → the first `file:line` that uses it."""
    found: dict[str, str] = {}
    for path in source_files(root):
        if "migrations" in path.parts:
            continue
        method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
        options = None if path.suffix == ".py" else JINJA_OPTIONS
        with path.open("rb") as fileobj:
            for lineno, message, _comments, _context in extract(
                method, fileobj, keywords=KEYWORDS, options=options
            ):
                msgids = message if isinstance(message, tuple) else (message,)
                for msgid in msgids:
                    if msgid:
                        found.setdefault(msgid, f"{path.relative_to(root)}:{lineno}")
    return found


def catalogue(locale: str) -> dict[str, str]:
    """msgid → translation (empty when untranslated or fuzzy) of one `.po` file."""
    with po_path(locale).open("rb") as fileobj:
        catalog = read_po(fileobj, locale=locale)
    out: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        out[msgid] = "" if message.fuzzy or not all(strings) else str(strings[0])
    return out


def main() -> int:
    used = used_msgids()
    status = 0
    for locale in LOCALES:
        known = catalogue(locale)
        for msgid, where in sorted(used.items(), key=lambda kv: kv[1]):
            if not known.get(msgid):
                print(f"{locale}: missing {msgid!r} ({where})")
                status = 1
        for msgid in sorted(set(known) - set(used)):
            print(f"{locale}: unused {msgid!r}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
