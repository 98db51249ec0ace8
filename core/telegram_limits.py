"""Telegram's size limits, and cutting our texts to fit them.

Telegram refuses a message whose text is over 4,096 characters, or whose caption is over
1,024, after it has parsed the HTML (so `<b>` costs nothing and `&amp;` costs one), counted
in UTF-16 code units (an emoji is two). A refused row can never be sent: a lead card with a
long name, long UTM tags and a few notes could then never be opened again. So every text
the outbox stores is measured the way Telegram measures it and, when too long, cut at a
character (never inside a tag, an entity, a surrogate pair or an emoji sequence), ended
with "…", and its open tags closed again, so the markup stays valid.

Screens with a natural place to break (the lead card's notes) page by themselves and use
`visible_length` to decide how much fits; the cut here is the safety net under everything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

TEXT_LIMIT = 4096  # a message's text, after entity parsing
CAPTION_LIMIT = 1024  # a photo's or document's caption
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback_data
# Telegram documents no limit for a button's label, but a phone shows about 30 characters
# and clips the rest; longer labels are cut here so that none is ever refused either.
BUTTON_TEXT_LIMIT = 64
ELLIPSIS = "…"

# A tag (`<b>`, `</a>`, `<a href="…">`), a character reference, or a run of plain text.
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>|&(#[0-9]+|#[xX][0-9a-fA-F]+|\w+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ZWJ = "\u200d"


def utf16_length(text: str) -> int:
    """Telegram's length of plain text: UTF-16 code units (astral characters count two)."""
    # The codec counts in C (a lone surrogate, as before, counts one).
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _width(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


@dataclass(frozen=True)
class _Token:
    kind: str  # "open", "close", "ref" (a character reference) or "text"
    source: str
    name: str = ""  # a tag's name
    shown: str = ""  # what a reference or text shows


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    for match in _TOKEN.finditer(source):
        if match.start() > position:
            text = source[position : match.start()]
            tokens.append(_Token("text", text, shown=text))
        position = match.end()
        if match[2] is not None:
            kind = "close" if match[1] else "open"
            tokens.append(_Token(kind, match[0], name=match[2].lower()))
        else:
            tokens.append(_Token("ref", match[0], shown=_reference(match[3], match[0])))
    if position < len(source):
        tokens.append(_Token("text", source[position:], shown=source[position:]))
    return tokens


def _reference(name: str, source: str) -> str:
    """What `&name;` shows: Telegram knows four named entities and every numeric one; an
    unknown name stays as written (counted in full, which only errs on the safe side)."""
    if not name.startswith("#"):
        return _NAMED.get(name, source)
    try:
        code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
        return chr(code)
    except (ValueError, OverflowError):
        return source


def visible_length(source: str) -> int:
    """How long Telegram finds an HTML text: its shown characters in UTF-16 code units."""
    return sum(utf16_length(t.shown) for t in _tokens(source) if t.kind in ("ref", "text"))


def fit_html(source: str, limit: int = TEXT_LIMIT) -> str:
    """`source` (Telegram HTML: user values escaped) as is when it fits in `limit`, else cut
    to fit with "…", its open tags closed again."""
    if 2 * len(source) <= limit:  # shows at most its own characters, two units each at most
        return source
    tokens = _tokens(source)
    shown = "".join(t.shown for t in tokens if t.kind in ("ref", "text"))
    if utf16_length(shown) <= limit:
        return source
    # Where to cut is decided on the text as shown, so that an emoji sequence is never
    # split, even one whose parts sit on both sides of a tag or a reference.
    end = len(_cut(shown, limit - utf16_length(ELLIPSIS)))
    out: list[str] = []
    open_tags: list[str] = []
    position = 0
    for token in tokens:
        if token.kind == "close":
            if open_tags and open_tags[-1] == token.name:
                open_tags.pop()
            out.append(token.source)
        elif token.kind == "open":
            if position >= end:
                break
            open_tags.append(token.name)
            out.append(token.source)
        elif position + len(token.shown) <= end:
            out.append(token.source)
            position += len(token.shown)
        else:
            if token.kind == "text":  # shown as written; a reference is kept whole or not at all
                out.append(token.source[: end - position])
            break
    closing = "".join(f"</{name}>" for name in reversed(open_tags))
    return "".join(out) + ELLIPSIS + closing


def fit_plain(text: str, limit: int) -> str:
    """Plain text (a button's label) cut to `limit` UTF-16 code units with "…"."""
    if utf16_length(text) <= limit:
        return text
    return _cut(text, limit - utf16_length(ELLIPSIS)) + ELLIPSIS


def _cut(text: str, room: int) -> str:
    """The longest start of `text` within `room` code units that does not split a
    character, an emoji sequence or a combining mark from its base."""
    end = used = 0
    while end < len(text) and used + _width(text[end]) <= room:
        used += _width(text[end])
        end += 1
    while 0 < end < len(text) and (_extends(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    if end < len(text) and _splits_flag(text, end):
        end -= 1
    return text[:end]


def _extends(ch: str) -> bool:
    """Does `ch` belong to the character before it (a mark, a variation selector, a skin
    tone, a joiner, a tag of a flag sequence)?"""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch == _ZWJ
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _splits_flag(text: str, end: int) -> bool:
    """Would cutting at `end` leave half of a flag (two regional indicator letters)?"""
    if end == 0 or not (_is_regional(text[end - 1]) and _is_regional(text[end])):
        return False
    run = 0
    while end - run > 0 and _is_regional(text[end - run - 1]):
        run += 1
    return run % 2 == 1
