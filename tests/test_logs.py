"""LOG_FORMAT=json: one JSON object per line, events with their ids, and no phone number,
e-mail address or message text in what an ingest logs at INFO or above."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from core import logs
from models import LeadEntry
from sandbox import FakeTelegram

PHONE, EMAIL = "+7 916 555-44-33", "anna.secret@example.com"


@pytest.fixture
def json_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    logs.configure("json", stream=out)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]

    yield lines
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


async def test_an_ingest_logs_json_lines_with_ids_and_no_personal_data(
    product: Callable[..., Any],
    telegram: tuple[FakeTelegram, str],
    json_logs: Callable[[], list[dict[str, Any]]],
) -> None:
    async with (
        product() as rt,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        url = f"http://127.0.0.1:{rt.runner.addresses[0][1]}/"
        async with http.get(url) as resp:
            found = re.search(r'name="csrf_token" value="([^"]+)"', await resp.text())
            assert found is not None
            token = found[1]
        form = {"name": "Анна", "phone": PHONE, "email": EMAIL, "consent": "yes"}
        async with http.post(url, data={**form, "csrf_token": token}, allow_redirects=False):
            pass
        await rt.hub.drain()
        lead = await LeadEntry.get()
        logging.getLogger("test").error("a value quoted by an error: %s, %s", PHONE, EMAIL)
    records = json_logs()  # every line parses as one JSON object

    created = [r for r in records if r.get("event") == "core_lead_created"]
    assert len(created) == 1
    assert created[0]["lead_id"] == lead.id
    assert created[0]["event_id"] > 0
    assert created[0]["level"] == "INFO"
    dump = json.dumps(records, ensure_ascii=False)
    digits = re.sub(r"\D", "", PHONE)
    for secret in (PHONE, digits, "+" + digits, EMAIL, "Анна"):
        assert secret not in dump, secret
    assert "[phone]" in dump  # the error's quoted values were scrubbed
    assert "[email]" in dump


def test_the_scrubber_keeps_ids_and_takes_contacts() -> None:
    text = "update 1764489600123 chat 123456789 from +7 (916) 555-44-33 <a.b+c@mail.example.ru>"
    assert logs.redact(text) == "update 1764489600123 chat 123456789 from [phone] <[email]>"
