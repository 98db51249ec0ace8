"""The scenario definitions and the conditions they may test. Data, not code paths."""

from __future__ import annotations

from handlers.webinar_scenarios import WEBINAR_CONDITIONS, WEBINAR_MOMENTS, WEBINAR_SCENARIOS
from locales import N_
from scheduler.scenario import Condition, Moment, RunContext, Scenario, Send, Wait

WELCOME = Scenario(
    name="welcome",
    description=(
        "core_lead_created (web_form) → scenario_start(welcome) → the welcome message → "
        "WELCOME_FOLLOWUP_DELAY (10m) → the follow-up. Messages wait until the lead opens "
        "the bot through its deep link: the welcome goes at binding, and the delay counts "
        "from the welcome, not from the form (a late binder still gets the pause between "
        "the two). A lead who never opens the bot within 7 days is let go (run cancelled)."
    ),
    steps=(
        Send(
            N_(
                "Hello, {name}! 👋 You are registered. This chat is where reminders, the "
                "link to the webinar room and the materials will arrive."
            ),
            id="welcome",
        ),
        Wait("10m", setting="welcome_followup_delay", id="followup_delay"),
        Send(
            N_(
                "{name}, while you wait for the webinar: write here any question you want "
                "the speaker to answer — we will pass it on. See you on the air!"
            ),
            id="followup",
        ),
    ),
)

SCENARIOS: tuple[Scenario, ...] = (WELCOME, *WEBINAR_SCENARIOS)


async def lead_has_chat(ctx: RunContext) -> bool:
    """The lead has opened the bot, so messages can reach them."""
    return ctx.lead.chat_id is not None


CONDITIONS: dict[str, Condition] = {"lead_has_chat": lead_has_chat, **WEBINAR_CONDITIONS}
MOMENTS: dict[str, Moment] = dict(WEBINAR_MOMENTS)
