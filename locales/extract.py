"""Which msgids the code uses: Python modules (by syntax tree) and Jinja2 templates (Babel).

Used by the test that keeps the catalogues complete, and handy when adding texts:

    .venv/bin/python -m locales.extract      # lists msgids missing from a catalogue
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po

from locales import LOCALES, LOCALES_DIR, po_path

ROOT = LOCALES_DIR.parent
CODE_DIRS = ("core", "web", "bot", "handlers", "scheduler", "sandbox")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "__": None, "lazy_gettext": None}
# Call names whose first argument (and, for the plural ones, second) is a msgid.
SINGULAR = frozenset({"_", "N_", "__", "gettext", "lazy_gettext", "ugettext"})
PLURAL = frozenset({"ngettext", "lazy_ngettext", "ungettext"})
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
        where = path.relative_to(root)
        messages = _python(path) if path.suffix == ".py" else _template(path)
        for lineno, msgid in messages:
            found.setdefault(msgid, f"{where}:{lineno}")
    return found


def _python(path: Path) -> Iterator[tuple[int, str]]:
    """Calls like `_("…")`, `N_("…")`, `t.gettext("…")`, `ngettext("…", "…", n)`.

    By syntax tree rather than Babel's tokenizer: on Python 3.11 Babel cannot see calls
    inside f-strings, and bot texts are often built in them.
    """
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        count = 1 if name in SINGULAR else 2 if name in PLURAL else 0
        for arg in node.args[:count]:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                yield node.lineno, arg.value


def _template(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as fileobj:
        for lineno, message, _comments, _context in extract(
            "jinja2.ext:babel_extract", fileobj, keywords=KEYWORDS, options=JINJA_OPTIONS
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    yield lineno, msgid


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
