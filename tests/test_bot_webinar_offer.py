"""The speaker's call to action from the bot, end to end over the fake Bot API: Open offer
under a live webinar in `/webinars` shows the form in an open room at once (its live
connection), a viewer's submission is `client_webinar_form_submitted` and their partner's
notice, Close offer hides it again; outside the live time the button is refused with the
reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from core.webinars import set_status
from models import EventRecord, Role, User, WebinarStatus
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.room_support import Visitor, make_lead, make_webinar, register
from tests.test_admin_users import forge, press, say
from tests.test_bot_webinars import FAST, buttons_of, person


async def test_the_speaker_opens_and_closes_the_offer_from_the_bot(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product(**FAST) as rt:
        webinar = await make_webinar(rt.hub, clock, title="Партнёрство")
        mary = await person(fake, "Mary", Role.SPEAKER)
        paul = await person(fake, "Paul", Role.PARTNER)
        anna = await person(fake, "Anna", Role.CANDIDATE)
        partner = await User.get(telegram_id=paul.id)
        candidate = await User.get(telegram_id=anna.id)
        lead = await make_lead(clock, "<i>Анна</i>", user_id=candidate.id, partner_id=partner.id)
        await register(rt.hub, clock, webinar, lead)
        await tick(rt)

        (listing,) = await say(fake, mary.id, "/webinars")
        mid = listing["message_id"]
        open_data, close_data = f"wbo:{webinar.id}:open", f"wbo:{webinar.id}:close"
        assert open_data not in buttons_of(listing)  # not live yet: no form to show
        early = await forge(fake, mary, mid, open_data)
        assert early["text"] == "The form shows only while the webinar is live."
        assert early["show_alert"] is True

        await set_status(rt.hub, clock, webinar.id, WebinarStatus.LIVE, actor=None)
        viewer = Visitor(rt.links.base_url)
        try:
            await viewer.enter(rt.links.room_link(webinar, lead.id))
            stream = await viewer.stream()
            assert (await stream.until("state")).data["offer"] is False
            urls = viewer.data["urls"]
            assert (await viewer.post(urls["offer"], {"text": "рано"})).status == 409

            (listing,) = await say(fake, mary.id, "/webinars")
            mid = listing["message_id"]
            assert buttons_of(listing)[open_data] == "📣 Open offer · Партнёрство"
            opened = await press(fake, mary.id, mid, open_data)
            assert opened["text"] == "The form is shown in the room now."
            assert (await stream.until("state")).data["offer"] is True  # without a reload
            await tick(rt)
            shown = fake.world.chat(mary.id).messages[mid]
            assert "📣 The form is shown in the room." in shown["text"]
            assert buttons_of(shown)[close_data] == "🙈 Close offer · Партнёрство"
            again = await forge(fake, mary, mid, open_data)  # a stale Open pressed again
            assert again["text"] == "The form is shown already."

            text = "<b>Хочу</b> в команду"
            sent = await viewer.post(urls["offer"], {"text": text})
            assert sent.status == 200
            await tick(rt)
            await tick(rt)
            [submitted] = await EventRecord.filter(name="client_webinar_form_submitted")
            assert submitted.payload["lead_id"] == lead.id
            notices = [
                m["text"] for m in fake.bot_messages(paul.id) if "sent the form" in m["text"]
            ]
            assert notices == [  # as the partner reads it: what people typed stays text
                "🙋 Your lead sent the form in the webinar room\n"
                "Name: <i>Анна</i>\n"
                "Webinar: Партнёрство, Wednesday, 20 January 2027, 19:00 (Europe/Moscow)\n"
                "Message: <b>Хочу</b> в команду"
            ]

            closed = await press(fake, mary.id, mid, close_data)
            assert closed["text"] == "The form is hidden."
            assert (await stream.until("state")).data["offer"] is False
            assert (await viewer.post(urls["offer"], {"text": "ещё"})).status == 409
            await tick(rt)
            shown = fake.world.chat(mary.id).messages[mid]
            assert open_data in buttons_of(shown)
            assert "The form is shown" not in shown["text"]
            names = [e.name for e in await EventRecord.filter(name__startswith="core_webinar_of")]
            assert names == ["core_webinar_offer_opened", "core_webinar_offer_closed"]
            stream.close()
        finally:
            await viewer.close()

        # A partner forging the button gets the usual refusal; nothing changes.
        refused = await forge(fake, paul, fake.bot_messages(paul.id)[-1]["message_id"], open_data)
        assert refused["show_alert"] is True
        assert await EventRecord.filter(name="core_webinar_offer_opened").count() == 1
