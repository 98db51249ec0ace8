"""Logging set-up: plain lines or one JSON object per line (`LOG_FORMAT=json`).

A JSON line carries `ts`, `level`, `logger`, `message` and, when the call site gave them
(`extra=`), `event`, `event_id`, `lead_id`, `subscriber`: a log shipper indexes them
without parsing prose. Personal data stays out of the log: the call sites log ids, never
a phone number, an e-mail address or a message's text, and as a safety net every line at
INFO or above is scrubbed of anything shaped like an e-mail address or an international
phone number (an exception's text may quote a value).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

FIELDS = ("event", "event_id", "lead_id", "subscriber", "webinar_id")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+\d[\d\s().-]{7,}\d")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Each second's sweep and each handled update are not news; their problems still are.
CHATTY = ("apscheduler", "aiogram.event", "tortoise")


def redact(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


class Redacting(logging.Filter):
    """Scrubs e-mail addresses and phone numbers from records at INFO and above."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            message = record.getMessage()
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(
    log_format: str = "text", level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Install the one handler on the root logger (replacing any), for `log_format`,
    writing to `stream` (standard error)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(Redacting())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
