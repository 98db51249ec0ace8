"""Every protected action × every role (and a granted and a withdrawn capability): the
action works, or it is refused with the one clear message naming the capability it needs,
and nothing else happens. Rights are capabilities, never role names (issue 4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import main
from bot.access import refusal
from core.clock import FakeClock
from core.roles import Capability as C
from core.roles import role_defaults
from core.users import set_capability
from models import Role
from sandbox import FakeTelegram
from sandbox.world import SandboxUser
from tests.bot_support import tick
from tests.review_support import forge_press, someone

LEADS = (C.LEADS_VIEW_OWN, C.LEADS_VIEW_TEAM, C.LEADS_VIEW_ALL)


@dataclass(frozen=True)
class Action:
    """A command sent, or a button pressed (callback data a client can send for any
    message), and the capabilities of which any one opens it."""

    label: str
    needs: tuple[C, ...]
    command: str | None = None
    press: str | None = None


ACTIONS = (
    Action("/ref", (C.LEADS_VIEW_OWN,), command="/ref"),
    Action("/profile", (C.LEADS_VIEW_OWN,), command="/profile"),
    Action("/leads", LEADS, command="/leads"),
    Action("/export", LEADS, command="/export"),
    Action("/stats", LEADS, command="/stats"),
    Action("/users", (C.USERS_MANAGE_ROLES,), command="/users"),
    Action("/broadcast", (C.BROADCAST,), command="/broadcast"),
    Action("leads page", LEADS, press="leads:1"),
    Action("stats period", LEADS, press="stats:7d"),
    Action("user card", (C.USERS_MANAGE_ROLES,), press="usr:{target}"),
    Action("set role", (C.USERS_MANAGE_ROLES,), press="usr:{target}:role:candidate"),
    Action("broadcast segment", (C.BROADCAST,), press="bcs:role:partner"),
    Action("broadcast confirm", (C.BROADCAST,), press="bc:999999:go"),
    Action("approve a partner", (C.APPROVE_USERS,), press="app:999999:approve"),
    Action("approve a profile", (C.APPROVE_PROFILES,), press="prof:999999:approve"),
    Action("start a webinar", (C.WEBINAR_MANAGE_STATUS,), press="wbc:999999:start"),
    Action("close a webinar's chat", (C.WEBINAR_MANAGE_CHAT,), press="wbm:999999:close:0"),
    Action("open the room's form", (C.WEBINAR_MANAGE_CHAT,), press="wbo:999999:open"),
    Action("new webinar button", (C.WEBINAR_CREATE,), press="wbd:new:0"),
    Action("/newwebinar", (C.WEBINAR_CREATE,), command="/newwebinar"),
)


@dataclass(frozen=True)
class Subject:
    label: str
    role: Role
    grants: tuple[C, ...] = ()
    withdrawn: tuple[C, ...] = ()

    @property
    def capabilities(self) -> frozenset[C]:
        # Worked out here from the declared defaults, not asked of the code under test.
        return (role_defaults(self.role) | set(self.grants)) - set(self.withdrawn)


SUBJECTS = (
    *(Subject(role.value, role) for role in Role),
    Subject("speaker + approve_users", Role.SPEAKER, grants=(C.APPROVE_USERS,)),
    Subject("partner − leads_view_own", Role.PARTNER, withdrawn=(C.LEADS_VIEW_OWN,)),
    Subject("admin − broadcast", Role.ADMIN, withdrawn=(C.BROADCAST,)),
    Subject("candidate + users_manage_roles", Role.CANDIDATE, grants=(C.USERS_MANAGE_ROLES,)),
)


async def perform(
    rt: main.Runtime, fake: FakeTelegram, account: SandboxUser, action: Action, target: int
) -> list[str]:
    """Everything the person saw in answer: messages, captions and button alerts."""
    before = fake.bot_messages(account.id)
    after = before[-1]["message_id"] if before else 0
    seen: list[str] = []
    if action.command:
        sent = fake.send_text(account.id, action.command)
        await fake.wait_for_messages(account.id, 1, after=sent["message_id"])
    else:
        assert action.press
        query_id = forge_press(fake, account, action.press.format(target=target))
        answer = await fake.wait_for_answer(query_id)
        seen.append(str(answer.get("text") or ""))
    await tick(rt)  # whatever else the action queued has arrived
    for message in fake.bot_messages(account.id, after=after):
        seen.append(str(message.get("text") or message.get("caption") or ""))
    return seen


@pytest.mark.timeout(400)
async def test_every_protected_action_for_every_role(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    async with product() as rt:
        _, target = await someone(rt, fake, clock, "Target Person")
        people = []
        for subject in SUBJECTS:
            account, _ = await someone(
                rt, fake, clock, subject.label, subject.role, grants=subject.grants
            )
            for capability in subject.withdrawn:
                await set_capability(rt.hub, clock, account.id, capability, False, actor=None)
            people.append((subject, account))
        await tick(rt)

        wrong: list[str] = []
        for subject, account in people:
            for action in ACTIONS:
                no = refusal(lambda msgid: rt.texts("en", msgid), *action.needs)
                seen = await perform(rt, fake, account, action, target.id)
                may = any(c in subject.capabilities for c in action.needs)
                if may and no in seen:
                    wrong.append(f"{subject.label} was refused {action.label}")
                if not may and seen != [no]:
                    wrong.append(f"{subject.label}: {action.label} gave {seen}, not the refusal")
    assert not wrong, "\n".join(wrong)
