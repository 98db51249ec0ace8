"""Reading JSON that came from outside: one reader for the webhook, the sandbox's API and
the fake Bot API.

`json.loads` alone recurses once per nesting level (20,000 `[` raise `RecursionError`,
which nobody expects from a parser), accepts escaped lone surrogates (`"\\ud800"`, which no
database and no UTF-8 writer can take later) and numbers of any length. Here every
failure is one `JsonError`: depth is checked before parsing, strings after.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # our bodies are flat; a Bot API keyboard is five levels deep
# A string (skipped whole, escapes and all) or a bracket: what nesting is made of.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonError(ValueError):
    """Not UTF-8 JSON, nested deeper than allowed, or holding text that is not text."""


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value in `data`; raises `JsonError` for anything else."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise JsonError("not UTF-8") from None
    if text.count("[") + text.count("{") > max_depth:  # only then can it be too deep
        _check_depth(text, max_depth)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # ValueError: bad JSON, or a number too long
        raise JsonError("not JSON") from None
    _check_text(value)
    return value


def loads_object(data: bytes | str, *, max_keys: int | None = None) -> dict[str, Any]:
    """A JSON object of at most `max_keys` keys; raises `JsonError` for anything else."""
    value = loads(data)
    if not isinstance(value, dict):
        raise JsonError("not a JSON object")
    if max_keys is not None and len(value) > max_keys:
        raise JsonError("too many keys")
    return value


def _check_depth(text: str, max_depth: int) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token[0]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonError(f"nested deeper than {max_depth}")
        elif char in "]}":
            depth -= 1


def _check_text(value: Any) -> None:
    """Every string (keys too) encodes as UTF-8: no lone surrogates."""
    try:
        if isinstance(value, str):
            value.encode("utf-8")
        elif isinstance(value, dict):
            for key, item in value.items():
                key.encode("utf-8")
                _check_text(item)
        elif isinstance(value, list):
            for item in value:
                _check_text(item)
    except UnicodeEncodeError:
        raise JsonError("a string holds a lone surrogate") from None
