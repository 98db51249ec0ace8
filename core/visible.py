"""Text as people will see it: what names and notes keep of what somebody typed.

Unicode format characters (category Cf) are invisible but change how the text around them
is shown or compared: U+202E turns what follows backwards ("Anna\u202etxt.exe" reads
"Annaexe.txt"), the isolates U+2066–2069 pull text out of its place, U+200B and U+FEFF make
two names that look alike differ. Controls (Cc), lone surrogates (Cs: JSON can carry
them, no database can store them) and the characters that draw nothing at all (Hangul
fillers, the blank braille pattern: the usual "invisible name") go too. What a partner
reads in a notice, a card, a `/leads` button or the CSV is then what the person wrote.

One exception: ZERO WIDTH JOINER between two emoji is kept (👩‍💻 is one picture, not two).

Every name-like field is cleaned by `visible_line` once, where it enters (contact
normalisation, the Telegram profile, a profile display name); free text a person wrote
(a note, an application) by `visible_text`, which keeps line breaks.
"""

from __future__ import annotations

import unicodedata

REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# Drawn as nothing, though not format characters: the fillers of Hangul and the blank
# braille cell (names made of them look empty), the combining grapheme joiner, and the
# Khmer inherent vowels that Unicode itself advises against using.
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")
ZWJ = "\u200d"
# What sits on either side of a joiner inside an emoji sequence.
_EMOJI_PARTS = frozenset({"So", "Sk", "Mn", "Me"})


def _removed(char: str) -> bool:
    # White space among the controls (tab, line breaks) separates words: kept, to be
    # turned into a space by the caller.
    if char.isspace():
        return False
    return char in INVISIBLE or unicodedata.category(char) in REMOVED_CATEGORIES


def _emoji_side(char: str) -> bool:
    return unicodedata.category(char) in _EMOJI_PARTS


def _strip_invisible(value: str, keep: frozenset[str]) -> str:
    kept: list[str] = []
    for i, char in enumerate(value):
        if (
            char in keep
            or not _removed(char)
            or (
                char == ZWJ
                and kept
                and _emoji_side(kept[-1])
                and i + 1 < len(value)
                and _emoji_side(value[i + 1])
            )
        ):
            kept.append(char)
    return "".join(kept)


def visible_line(value: str) -> str:
    """One line of visible text: invisible characters removed, every run of white space
    (line breaks, tabs, no-break and ideographic spaces) one space, ends stripped, NFC."""
    if not (value.isascii() and value.isprintable()):
        # NFC after removing: a removed character may have kept two parts apart.
        value = unicodedata.normalize("NFC", _strip_invisible(value, frozenset()))
    return " ".join(value.split())


_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x85": "\n"})


def visible_text(value: str) -> str:
    """Visible text of several lines: as `visible_line` for each line, blank lines kept
    (at most one in a row), line breaks as `\\n`."""
    value = value.replace("\r\n", "\n").translate(_LINE_BREAKS)
    value = _strip_invisible(value, frozenset("\n"))
    value = unicodedata.normalize("NFC", value)
    lines = [" ".join(line.split()) for line in value.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")
