"""/profile: a partner's display name and photo, shown to leads once approved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from core.roles import Capability as C
from models import EventRecord, ProfileChange, Review, Role, User
from sandbox import FakeTelegram
from tests.bot_support import texts, tick
from tests.review_support import callbacks, forge_press, send_photo, someone, with_text


async def test_a_new_name_is_reviewed_and_then_shown_to_leads(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        sam, _ = await someone(rt, fake, clock, "Sam", Role.SPEAKER)  # approve_profiles
        admin, _ = await someone(rt, fake, clock, "Ada", Role.ADMIN)
        plain, _ = await someone(rt, fake, clock, "Lena", Role.LEADER)
        pavel, pavel_user = await someone(rt, fake, clock, "Pavel", Role.PARTNER)
        pavel_user.ref_code = "pavel"
        await pavel_user.save(update_fields=["ref_code"])

        for bad in ("/profile name", "/profile name " + "x" * 65):
            sent = fake.send_text(pavel.id, bad)
            (answer,) = await fake.wait_for_messages(pavel.id, after=sent["message_id"])
            assert answer["text"] == "A name must be 1 to 64 characters long."
        sent = fake.send_text(pavel.id, "/profile name Pavel the First")
        await fake.wait_for_messages(pavel.id, after=sent["message_id"])
        sent = fake.send_text(pavel.id, "/profile name <b>Pavel</b> & Co")
        (answer,) = await fake.wait_for_messages(pavel.id, after=sent["message_id"])
        assert answer["text"] == "Thank you! Your new name “<b>Pavel</b> & Co” waits for approval."
        # The newer change replaced the older one.
        (change,) = await ProfileChange.filter(status=Review.PENDING)
        assert change.value == "<b>Pavel</b> & Co"
        await tick(rt)

        for account in (sam, admin):
            # The first name's notice may have gone out before the second replaced it.
            notice = with_text(fake.bot_messages(account.id), "🪪")[-1]
            assert "New name (shown to leads): <b>Pavel</b> & Co" in notice["text"]
            assert callbacks(notice) == [f"prof:{change.id}:approve", f"prof:{change.id}:reject"]
        assert with_text(fake.bot_messages(plain.id), "🪪") == []

        # Pending: leads still see the Telegram name; /profile shows what waits.
        sent = fake.send_text(pavel.id, "/profile")
        (shown,) = await fake.wait_for_messages(pavel.id, after=sent["message_id"])
        assert "Name: Pavel (from Telegram)" in shown["text"]
        assert "Waiting for approval: new name “<b>Pavel</b> & Co”" in shown["text"]

        # A partner forging the button is refused.
        query_id = forge_press(fake, pavel, f"prof:{change.id}:approve")
        answer = await fake.wait_for_answer(query_id)
        assert (
            answer["text"] == "Sorry, this is not available to you (it needs “approve_profiles”)."
        )

        *older, notice = with_text(fake.bot_messages(sam.id), "🪪")
        for stale in older:  # the replaced change's buttons say so
            data = callbacks(stale)[0]
            query_id = fake.press_button(sam.id, stale["message_id"], data=data)
            answer = await fake.wait_for_answer(query_id)
            assert answer["text"].startswith("This change was replaced by a newer one")
        query_id = fake.press_button(sam.id, notice["message_id"], data=f"prof:{change.id}:approve")
        await fake.wait_for_answer(query_id)
        await tick(rt)
        assert (await User.get(id=pavel_user.id)).display_name == "<b>Pavel</b> & Co"
        assert (
            texts(fake, pavel.id)[-1]
            == "✅ Your new name is approved: leads see “<b>Pavel</b> & Co” now."
        )
        edited = fake.world.chat(sam.id).messages[notice["message_id"]]
        assert edited["text"].endswith("✅ Approved by Sam")
        ada_notice = with_text(fake.bot_messages(admin.id), "🪪")[-1]
        query_id = fake.press_button(
            admin.id, ada_notice["message_id"], data=f"prof:{change.id}:reject"
        )
        assert (await fake.wait_for_answer(query_id))["text"] == "✅ Approved by Sam"
        assert await EventRecord.filter(name="core_profile_change_decided").count() == 1

        # A lead opening Pavel's link sees the approved name.
        zoe = fake.create_user("Zoe", language_code="en")
        sent = fake.send_start(zoe.id, "ref_pavel")
        (hello,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert "invitation of <b>Pavel</b> & Co." in hello["text"]


async def test_a_new_photo_is_reviewed(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        sam, _ = await someone(rt, fake, clock, "Sam", Role.LEADER, grants=(C.APPROVE_PROFILES,))
        zoe, _ = await someone(rt, fake, clock, "Zoe")
        pavel, pavel_user = await someone(rt, fake, clock, "Pavel", Role.PARTNER)

        # A candidate has no profile that leads see.
        sent = send_photo(fake, zoe, "/profile")
        (answer,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert answer["text"] == "Sorry, this is not available to you (it needs “leads_view_own”)."

        sent = send_photo(fake, pavel, "/profile")
        (answer,) = await fake.wait_for_messages(pavel.id, after=sent["message_id"])
        assert answer["text"] == "Thank you! Your new photo waits for approval."
        file_id = sent["photo"][-1]["file_id"]
        await tick(rt)
        (notice,) = with_text(fake.bot_messages(sam.id), "🪪")
        assert notice["photo"][0]["file_id"] == file_id  # the same photo, sent on
        assert "New photo (shown to leads)" in notice["caption"]
        change = await ProfileChange.get(field="photo")

        query_id = fake.press_button(sam.id, notice["message_id"], data=f"prof:{change.id}:reject")
        await fake.wait_for_answer(query_id)
        await tick(rt)
        assert (await User.get(id=pavel_user.id)).photo_file_id is None
        assert texts(fake, pavel.id)[-1].startswith("Your new photo was not approved")
        edited = fake.world.chat(sam.id).messages[notice["message_id"]]
        assert edited["caption"].endswith("❌ Rejected by Sam")
        assert callbacks(edited) == []

        # Another photo, approved this time: /profile shows it.
        sent = send_photo(fake, pavel, "/profile")
        await fake.wait_for_messages(pavel.id, after=sent["message_id"])
        await tick(rt)
        change = await ProfileChange.get(field="photo", status=Review.PENDING)
        notice = with_text(fake.bot_messages(sam.id), "🪪")[-1]
        query_id = fake.press_button(sam.id, notice["message_id"], data=f"prof:{change.id}:approve")
        await fake.wait_for_answer(query_id)
        await tick(rt)
        photo_id = sent["photo"][-1]["file_id"]
        assert (await User.get(id=pavel_user.id)).photo_file_id == photo_id
        sent = fake.send_text(pavel.id, "/profile")
        (shown,) = await fake.wait_for_messages(pavel.id, after=sent["message_id"])
        assert shown["photo"][0]["file_id"] == photo_id
        assert "Photo: yes, above" in shown["caption"]
