"""Telegram's HTML parse mode: markup in, plain text plus entities out, as the Bot API does.

Entity offsets count UTF-16 code units, like Telegram's (and like JavaScript strings, so
the sandbox page can slice with them directly). Unsupported tags are refused with
Telegram's own error, so a bot that would fail in production fails in the sandbox too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sandbox.protocol import Json, bad_request

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.parts: list[str] = []
        self.length = 0  # of the output so far, in UTF-16 code units
        self.open: list[tuple[str, Json]] = []  # (tag, entity being built)
        self.entities: list[Json] = []

    def fail(self, reason: str) -> None:
        raise bad_request(f"can't parse entities: {reason}")

    def byte_offset(self) -> int:
        line, column = self.getpos()
        lines = self.source.split("\n")
        index = sum(len(text) + 1 for text in lines[: line - 1]) + column
        return len(self.source[:index].encode("utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        entity: Json = {"offset": self.length}
        if tag in SIMPLE_TAGS:
            entity["type"] = SIMPLE_TAGS[tag]
            if tag == "blockquote" and "expandable" in attr:
                entity["type"] = "expandable_blockquote"
        elif tag == "span" and attr.get("class") == "tg-spoiler":
            entity["type"] = "spoiler"
        elif tag == "a":
            entity.update(type="text_link", url=attr.get("href") or "")
        elif tag == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=attr.get("emoji-id") or "")
        else:
            self.fail(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset()}')
        if tag == "code" and self.open and self.open[-1][1]["type"] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language
            language = (attr.get("class") or "").removeprefix("language-")
            if language:
                self.open[-1][1]["language"] = language
            entity["type"] = "merged-into-pre"
        self.open.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            self.fail(f"Unexpected end tag at byte offset {self.byte_offset()}")
        expected, entity = self.open.pop()
        if tag != expected:
            self.fail(
                f"Unmatched end tag at byte offset {self.byte_offset()}, "
                f'expected "</{expected}>", found "</{tag}>"'
            )
        entity["length"] = self.length - entity["offset"]
        if entity["length"] > 0 and entity["type"] != "merged-into-pre":
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self.handle_data(chr(code))
        except (ValueError, OverflowError):
            self.fail(f"Invalid character reference at byte offset {self.byte_offset()}")

    def handle_comment(self, data: str) -> None:
        self.fail(f'Unsupported start tag "!--" at byte offset {self.byte_offset()}')


def parse_html(source: str) -> tuple[str, list[Json]]:
    """`<b>Hi</b> &amp; bye` → ("Hi & bye", [bold 0..2]); raises Telegram's 400 on bad markup."""
    parser = _TelegramHTML(source)
    parser.feed(source)
    parser.close()
    if parser.open:
        parser.fail(f'Can\'t find end tag corresponding to start tag "{parser.open[-1][0]}"')
    return "".join(parser.parts), parser.entities


# What Telegram finds in plain text by itself (a subset: links, commands, mentions).
_AUTO = re.compile(
    r"(?P<url>\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]])"
    r"|(?<![\w/])(?P<bot_command>/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?)(?![\w/])"
    r"|(?<![\w@])(?P<mention>@[A-Za-z][A-Za-z0-9_]{3,31})\b"
)
_OPAQUE = {"code", "pre", "text_link", "url", "bot_command", "mention"}


def detect_entities(text: str, entities: list[Json]) -> list[Json]:
    """Add the url / bot_command / mention entities Telegram detects, outside code and links."""
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _OPAQUE]
    found: list[Json] = []
    for match in _AUTO.finditer(text):
        start = utf16_len(text[: match.start()])
        end = start + utf16_len(match.group())
        if any(start < stop and begin < end for begin, stop in taken):
            continue
        found.append({"type": match.lastgroup, "offset": start, "length": end - start})
    return sorted([*entities, *found], key=lambda e: (e["offset"], -e["length"]))


def format_text(text: str, parse_mode: str, entities: list[Json] | None) -> tuple[str, list[Json]]:
    """A message's text and entities the way Telegram stores them."""
    if entities is not None:
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        return text, detect_entities(text, [e for e in entities if isinstance(e, dict)])
    if parse_mode.lower() == "html":
        text, found = parse_html(text)
        return text, detect_entities(text, found)
    # MarkdownV2 / Markdown are not parsed by the sandbox: the text is kept as sent.
    return text, detect_entities(text, [])
