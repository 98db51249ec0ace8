"""Candidate → partner, end to end through the fake Bot API: /apply, the approvers'
notices, the decision buttons (checked at press time), and what everyone is told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.applications import Applied, apply, approvers
from core.clock import FakeClock
from core.roles import Capability as C
from core.scope import scope_of
from core.users import set_capability, set_role
from models import Application, CrmStatus, EventRecord, LeadEntry, Review, Role, User
from sandbox import FakeTelegram
from tests.bot_support import texts, tick
from tests.review_support import callbacks, forge_press, someone, with_text

REFUSAL = "Sorry, this is not available to you (it needs “approve_users”)."


async def test_an_approved_candidate_becomes_a_partner_in_the_team_of_who_brought_them(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    async with product(admin_ids=(ada.id,)) as rt:
        sent = fake.send_start(ada.id)
        await fake.wait_for_messages(ada.id, after=sent["message_id"])
        sam, sam_user = await someone(
            rt, fake, clock, "Sam", Role.SPEAKER, grants=(C.APPROVE_USERS,)
        )
        plain, _ = await someone(rt, fake, clock, "Stan", Role.SPEAKER)
        pavel, pavel_user = await someone(rt, fake, clock, "Pavel", Role.PARTNER)
        pavel_user.ref_code = "pavel"
        await pavel_user.save(update_fields=["ref_code"])

        zoe = fake.create_user("Zoe", username="zoe_z", language_code="en")
        sent = fake.send_start(zoe.id, "ref_pavel")
        await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        sent = fake.send_text(zoe.id, "/apply I want to <b>join</b> & grow")
        (answer,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert answer["text"].startswith("✅ Your application to become a partner is sent")
        await tick(rt)

        notices = {}
        for account in (ada, sam):
            (notice,) = with_text(fake.bot_messages(account.id), "🙋")
            assert "Name: Zoe @zoe_z" in notice["text"]
            assert "Brought by: Pavel" in notice["text"]
            assert "Message: I want to <b>join</b> & grow" in notice["text"]  # text, not markup
            application = await Application.get()
            assert callbacks(notice) == [
                f"app:{application.id}:approve",
                f"app:{application.id}:reject",
            ]
            notices[account.id] = notice
        assert with_text(fake.bot_messages(plain.id), "🙋") == []
        pavel_before = len(fake.bot_messages(pavel.id))

        query_id = fake.press_button(
            sam.id, notices[sam.id]["message_id"], data=f"app:{application.id}:approve"
        )
        await fake.wait_for_answer(query_id)
        await tick(rt)

        # The candidate is a partner with a code, in Pavel's team; the lead says so too.
        zoe_user = await User.get(telegram_id=zoe.id)
        assert zoe_user.role == Role.PARTNER
        assert zoe_user.ref_code
        assert zoe_user.referred_by_id == pavel_user.id
        lead = await LeadEntry.get(user_id=zoe_user.id)
        assert lead.crm_status == CrmStatus.PARTNER
        (welcome,) = with_text(fake.bot_messages(zoe.id), "🎉")
        assert "/ref" in welcome["text"]
        (joined,) = with_text(fake.bot_messages(pavel.id, after=0)[pavel_before:], "🤝")
        assert joined["text"] == "🤝 Zoe @zoe_z joined your team as a partner."
        # Sam's notice now says who decided, and has no buttons left.
        edited = fake.world.chat(sam.id).messages[notices[sam.id]["message_id"]]
        assert edited["text"].endswith("✅ Approved by Sam")
        assert callbacks(edited) == []
        (logged,) = await EventRecord.filter(name="core_user_application_decided")
        assert logged.payload["decision"] == "approved"
        assert logged.payload["actor"] == f"user:{sam_user.id}"
        assert logged.payload["referred_by_id"] == pavel_user.id

        # A second approver, and a second press (Sam's notice has no buttons left, but a
        # client may still send the data): told who decided, nothing changes.
        ada_press = fake.press_button(
            ada.id, notices[ada.id]["message_id"], data=f"app:{application.id}:reject"
        )
        sam_press = forge_press(fake, sam, f"app:{application.id}:reject")
        for query_id in (ada_press, sam_press):
            assert (await fake.wait_for_answer(query_id))["text"] == "✅ Approved by Sam"
        await tick(rt)
        assert await EventRecord.filter(name="core_user_application_decided").count() == 1
        assert (await User.get(id=zoe_user.id)).role == Role.PARTNER
        assert len(with_text(fake.bot_messages(zoe.id), "🎉")) == 1
        assert not with_text(fake.bot_messages(zoe.id), "Thank you for your application")

        # Pavel made a leader sees the new partner's leads (the team tree).
        await set_role(rt.hub, clock, pavel.id, Role.LEADER, actor=None)
        now = int(clock.now())
        zoes_lead = await LeadEntry.create(
            lead_source="web_form",
            first_touch_at=now,
            lead_created_at=now,
            updated_at=now,
            partner_id=zoe_user.id,
        )
        scope = await scope_of(await User.get(id=pavel_user.id))
        assert scope.covers(zoes_lead)
        assert await scope.leads().filter(id=zoes_lead.id).exists()

        # A partner now: /apply again says so, and stores nothing.
        sent = fake.send_text(zoe.id, "/apply")
        (answer,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
        assert answer["text"].startswith("You are a partner already")
        assert await Application.all().count() == 1


async def test_rejection_a_forged_press_and_applying_twice(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        admin, admin_user = await someone(rt, fake, clock, "Ada", Role.ADMIN)
        pavel, pavel_user = await someone(rt, fake, clock, "Pavel", Role.PARTNER)
        pavel_user.ref_code = "pavel"
        await pavel_user.save(update_fields=["ref_code"])
        zoe = fake.create_user("Zoe", language_code="ru")
        sent = fake.send_start(zoe.id, "ref_pavel")
        await fake.wait_for_messages(zoe.id, after=sent["message_id"])

        for expected in ("✅ Заявка стать партнёром отправлена", "Ваша заявка уже ждёт решения"):
            sent = fake.send_text(zoe.id, "/apply")
            (answer,) = await fake.wait_for_messages(zoe.id, after=sent["message_id"])
            assert answer["text"].startswith(expected)
        application = await Application.get()
        assert await Application.all().count() == 1
        assert (await LeadEntry.get(chat_id=zoe.id)).crm_status == CrmStatus.APPLIED
        await tick(rt)
        assert await EventRecord.filter(name="core_user_applied").count() == 1
        (notice,) = with_text(fake.bot_messages(admin.id), "🙋")

        # A partner presses a forged button: refused, nothing changes.
        query_id = forge_press(fake, pavel, f"app:{application.id}:approve")
        assert (await fake.wait_for_answer(query_id))["text"] == REFUSAL
        await tick(rt)
        assert (await Application.get()).status == Review.PENDING
        assert (await User.get(telegram_id=zoe.id)).role == Role.CANDIDATE

        query_id = fake.press_button(
            admin.id, notice["message_id"], data=f"app:{application.id}:reject"
        )
        await fake.wait_for_answer(query_id)
        await tick(rt)
        zoe_user = await User.get(telegram_id=zoe.id)
        assert (zoe_user.role, zoe_user.ref_code, zoe_user.referred_by_id) == (
            Role.CANDIDATE,
            None,
            None,
        )
        assert (await LeadEntry.get(chat_id=zoe.id)).crm_status == CrmStatus.REJECTED
        polite = [t for t in texts(fake, zoe.id) if t.startswith("Спасибо за заявку")]
        assert len(polite) == 1
        assert not [t for t in texts(fake, pavel.id) if t.startswith("🤝")]
        edited = fake.world.chat(admin.id).messages[notice["message_id"]]
        assert edited["text"].endswith("❌ Rejected by Ada")
        (logged,) = await EventRecord.filter(name="core_user_application_decided")
        assert (logged.payload["decision"], logged.payload["actor_user_id"]) == (
            "rejected",
            admin_user.id,
        )

        # After a rejection one may apply again (the room's form calls the same command).
        again = await apply(rt.hub, clock, zoe_user, via="room", text="second try")
        assert again.outcome is Applied.APPLIED
        assert (await Application.get(id=again.application_id)).via == "room"


async def test_who_may_approve(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        admin, _ = await someone(rt, fake, clock, "Ada", Role.ADMIN)
        withdrawn, _ = await someone(rt, fake, clock, "Wade", Role.ADMIN)
        await set_capability(rt.hub, clock, withdrawn.id, C.APPROVE_USERS, False, actor=None)
        granted, _ = await someone(rt, fake, clock, "Sam", Role.SPEAKER, grants=(C.APPROVE_USERS,))
        await someone(rt, fake, clock, "Stan", Role.SPEAKER)
        await someone(rt, fake, clock, "Lena", Role.LEADER, grants=(C.APPROVE_PROFILES,))
        chats = [chat for chat, _ in await approvers(admin_ids=(admin.id, 999_001))]
        assert chats == sorted([admin.id, granted.id, 999_001])
