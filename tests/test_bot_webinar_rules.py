"""The attendance rule and the reminders in the bot's webinar dialog, over the fake Bot API:
a new webinar offers the defaults, a wrong answer is refused in the command line's words
(one rule in `core/webinar_rules.py`) with the same question again, and an edit changes
only what was answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.clock import FakeClock
from core.hub import SignalHub
from core.webinar_rules import WebinarDraft, WebinarInvalid, check_step
from core.webinars import create_webinar
from models import EventRecord, Role, Webinar
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.test_admin_users import forge, press, say
from tests.test_bot_webinars import FAST, answer_steps, person

BASICS = (
    "Партнёрство",
    "-",
    "2027-02-01 19:00",
    "90",
    "obs",
    "https://cdn.example.com/live.m3u8",
    "0",
    "on",
)


async def test_the_dialog_sets_the_attendance_rule_and_the_reminders(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        mary = await person(fake, "Mary", Role.SPEAKER)
        await say(fake, mary.id, "/newwebinar")
        r = await answer_steps(fake, mary, *BASICS)
        assert r[-1].startswith("Step 9 of 11. Who counts as attended: present at least what")
        assert "Now: 50. Send - to keep it." in r[-1]  # the default, offered
        r = await answer_steps(fake, mary, "0", "60%", "много", "30", "2h,banana", "30s", "2H, 15m")
        assert r[0].startswith("⚠️ a whole number from 1 to 100\n\nStep 9 of 11.")
        assert r[1].startswith("Step 10 of 11. … or present at least how many minutes")
        assert "Now: 20. Send - to keep it." in r[1]
        assert r[2].startswith("⚠️ a whole number from 0 to 1440\n\nStep 10 of 11.")
        assert r[3].startswith("Step 11 of 11. Reminders before the start, e.g. 24h,1h,10m")
        assert "Now: 24h,1h,10m. Send - to keep it." in r[3]
        assert r[4].startswith(
            "⚠️ '2h,banana' is not a list of times like 24h,1h,10m\n\nStep 11 of 11."
        )
        assert r[5].startswith("⚠️ at most 5 times, each from 1m to 14d\n\nStep 11 of 11.")
        preview = fake.bot_messages(mary.id)[-1]
        assert preview["text"].startswith("Create the webinar?")
        assert "Attended: share of the live time, %: 60%" in preview["text"]
        assert "… or minutes present: 30" in preview["text"]
        assert "Reminders before the start: 2h, 15m" in preview["text"]
        await press(fake, mary.id, preview["message_id"], "wbd:save:0")
        await tick(rt)
        webinar = await Webinar.get()
        assert (webinar.attend_min_percent, webinar.attend_min_minutes) == (60, 30)
        assert webinar.reminders == (7200, 900)

        # Edit: "-" keeps the rest; only what was answered changes.
        await forge(fake, mary, preview["message_id"], f"wbd:edit:{webinar.id}")
        await fake.wait_for_messages(mary.id, after=preview["message_id"])
        r = await answer_steps(fake, mary, *["-"] * 8)
        assert "Now: 60. Send - to keep it." in r[-1]
        r = await answer_steps(fake, mary, "55", "-", "15d")
        assert "Now: 2h,15m. Send - to keep it." in r[1]
        assert r[2].startswith("⚠️ at most 5 times, each from 1m to 14d")
        await answer_steps(fake, mary, "off")
        preview = fake.bot_messages(mary.id)[-1]
        assert preview["text"].startswith("Edit the webinar?")
        assert "Reminders before the start: off" in preview["text"]
        await press(fake, mary.id, preview["message_id"], f"wbd:save:{webinar.id}")
        await tick(rt)
        webinar = await Webinar.get(id=webinar.id)
        assert (webinar.attend_min_percent, webinar.attend_min_minutes) == (55, 30)
        assert webinar.reminders == ()
        (updated,) = await EventRecord.filter(name="core_webinar_updated")
        assert updated.payload["changed"] == ["attend_min_percent", "reminder_offsets"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("attend_percent", "0", "a whole number from 1 to 100"),
        ("attend_percent", "half", "a whole number from 1 to 100"),
        ("attend_minutes", "-5", "a whole number from 0 to 1440"),
        ("reminders", "1h,2h,3h,4h,5h,6h", "at most 5 times, each from 1m to 14d"),
    ],
)
async def test_the_dialog_step_and_the_command_line_refuse_alike(
    hub: SignalHub, clock: FakeClock, field: str, value: str, reason: str
) -> None:
    with pytest.raises(WebinarInvalid) as step:
        check_step(field, {field: value}, clock.now())
    draft = WebinarDraft(
        title="T",
        start="2027-02-01T19:00",
        duration="60",
        stream_type="obs",
        stream_url="https://cdn.example.com/live.m3u8",
        **{field: value},
    )
    with pytest.raises(WebinarInvalid) as command:
        await create_webinar(hub, clock, draft, actor=None, default_tz="Europe/Moscow")
    assert step.value.text() == command.value.text() == reason
    assert step.value.field == command.value.field == field
