"""Cutting texts to Telegram's limits: whatever the HTML and the limit, the result parses the
way Telegram parses it, fits, and ends in "…" at a whole character.

The oracle is the fake Bot API's HTML parser (`sandbox.markup`), which answers Telegram's
400 for markup Telegram refuses."""

from __future__ import annotations

import html
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.telegram_limits import (
    ELLIPSIS,
    fit_html,
    fit_plain,
    utf16_length,
    visible_length,
)
from sandbox.markup import parse_html, utf16_len

# Characters that make cutting hard: astral ones (two UTF-16 units), emoji sequences joined
# by ZWJ, skin tones, variation selectors, flags, combining accents, and HTML's specials.
TRICKY = [
    "😀",
    "👨\u200d👩\u200d👧",
    "👍🏽",
    "❤\ufe0f",
    "🇷🇺",
    "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "e\u0301",
    "\u200d",
    "&",
    "<",
    ">",
    '"',
    "'",
    "\n",
    " ",
]
CHARS = st.one_of(st.characters(codec="utf-8"), st.sampled_from(TRICKY))
PLAIN = st.lists(CHARS, max_size=40).map("".join)
TAGS = st.sampled_from(
    [
        "<b>{}</b>",
        "<i>{}</i>",
        "<u>{}</u>",
        "<s>{}</s>",
        "<code>{}</code>",
        "<tg-spoiler>{}</tg-spoiler>",
        '<span class="tg-spoiler">{}</span>',
        "<blockquote expandable>{}</blockquote>",
        '<a href="https://example.com/?a=1&amp;b=%22">{}</a>',
        '<pre><code class="language-python">{}</code></pre>',
    ]
)
LEAVES = st.one_of(
    PLAIN.map(html.escape),
    st.sampled_from(["&#128512;", "&#x1F600;", "&#233;", "&amp;", "&lt;", "&quot;"]),
)
HTML = st.recursive(
    st.lists(LEAVES, max_size=5).map("".join),
    lambda inner: st.tuples(TAGS, st.lists(inner, min_size=1, max_size=3)).map(
        lambda pair: pair[0].format("".join(pair[1]))
    ),
    max_leaves=25,
)


def _extends(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me", "Mc") or 0x1F3FB <= ord(ch) <= 0x1F3FF


@settings(max_examples=250, deadline=None)
@given(source=st.lists(HTML, min_size=1, max_size=6).map("\n".join), limit=st.integers(1, 300))
@example(source="<b>" + "👨\u200d👩\u200d👧" * 2000 + "</b>", limit=4096)
@example(source="&amp;" * 5000, limit=4096)
@example(source="<i>" + "😀" * 600 + "</i>", limit=1024)
@example(source="🏻", limit=1)  # a lone skin tone: kept is empty, nothing torn
def test_a_cut_text_parses_fits_and_keeps_whole_characters(source: str, limit: int) -> None:
    text, _ = parse_html(source)  # what we cut is valid Telegram HTML
    assert visible_length(source) == utf16_len(text)  # measured as Telegram measures

    fitted = fit_html(source, limit)
    shown, _ = parse_html(fitted)  # no broken tag or entity: Telegram parses it
    assert utf16_len(shown) <= limit
    if utf16_len(text) <= limit:
        assert fitted == source
        return
    assert shown.endswith(ELLIPSIS)
    kept = shown.removesuffix(ELLIPSIS)
    assert text.startswith(kept)  # a start of the same text, nothing invented
    rest = text[len(kept) :]
    assert not kept.endswith("\u200d")  # no emoji sequence left hanging on a joiner
    # No mark or skin tone torn from its base (a text that starts with one has no base).
    assert not (kept and rest and _extends(rest[0]))
    kept.encode("utf-8")  # raises on a lone surrogate


@given(text=PLAIN, limit=st.integers(1, 80))
def test_a_label_is_cut_to_its_limit_at_a_whole_character(text: str, limit: int) -> None:
    label = fit_plain(text, limit)
    assert utf16_length(label) <= limit
    if utf16_length(text) <= limit:
        assert label == text
    else:
        assert label.endswith(ELLIPSIS)
        assert text.startswith(label.removesuffix(ELLIPSIS))


def test_telegram_counts_utf16_units_after_parsing() -> None:
    assert visible_length("<b>a &amp; b</b>") == 5
    assert visible_length("😀") == 2
    assert fit_html("<b>" + "😀" * 3 + "</b>", 5) == "<b>😀😀…</b>"
    assert fit_html("<a href='x'>ab&amp;cd</a><i>e</i>", 4) == "<a href='x'>ab&amp;…</a>"
