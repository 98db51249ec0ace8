"""`/r/<code>` counts people, not requests: once per visitor, link and window, with a
budget of counted visits per address, so the table grows no faster than that."""

from __future__ import annotations

import pytest

from core.referrals import funnel_of
from models import RefVisit, Role, User
from tests.web_support import make_client

DAY = 24 * 3600


@pytest.fixture
async def pavel(database_url, clock) -> User:
    return await User.create(
        telegram_id=111,
        role=Role.PARTNER,
        ref_code="pavel",
        first_name="Pavel",
        created_at=clock.now(),
        updated_at=clock.now(),
    )


async def click(client, code: str = "pavel") -> None:
    response = await client.get(f"/r/{code}?utm_source=vk", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/?ref={code}&utm_source=vk"


async def test_one_browser_clicking_300_times_is_one_visit_a_day(
    aiohttp_client, settings, clock, hub, pavel
):
    browser = await make_client(aiohttp_client, settings, clock, hub)
    for _ in range(300):
        await click(browser)
    assert (await funnel_of(pavel)).visits == 1  # what /ref shows as "Visits: 1"
    assert await RefVisit.all().count() == 1

    clock.advance(DAY)
    await click(browser)
    assert (await funnel_of(pavel)).visits == 2


async def test_a_script_without_cookies_is_counted_only_up_to_the_address_budget(
    aiohttp_client, settings, clock, hub, pavel
):
    script = await make_client(aiohttp_client, settings, clock, hub)
    for _ in range(300):
        script.session.cookie_jar.clear()  # a new "visitor" every time
        await click(script)  # the redirect always works
    assert (await funnel_of(pavel)).visits == 20  # REF_VISIT_RATE=20/h, in a burst
    assert await RefVisit.all().count() == 20
    # Unknown codes draw on the same budget: no new rows either.
    await click(script, "nobody")
    assert await RefVisit.all().count() == 20
    clock.advance(3 * 60)  # the budget refills, one visit per three minutes
    script.session.cookie_jar.clear()
    await click(script)
    assert (await funnel_of(pavel)).visits == 21


async def test_different_browsers_and_links_count_apart(
    aiohttp_client, settings, clock, hub, pavel
):
    olga = await User.create(
        telegram_id=222,
        role=Role.PARTNER,
        ref_code="olga",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    anna = await make_client(aiohttp_client, settings, clock, hub)
    boris = await make_client(aiohttp_client, settings, clock, hub)
    for browser in (anna, boris, anna, boris):
        await click(browser)
    await click(anna, "olga")
    assert (await funnel_of(pavel)).visits == 2
    assert (await funnel_of(olga)).visits == 1
    # The stored key is the link's own: Anna's two visits do not share one.
    keys = await RefVisit.all().values_list("visitor", flat=True)
    assert len(set(keys)) == 3
    cookie = anna.session.cookie_jar.filter_cookies(anna.make_url("/r/x"))["funnel_visitor"]
    assert cookie.value not in keys


async def test_a_forged_visitor_cookie_is_replaced(aiohttp_client, settings, clock, hub, pavel):
    browser = await make_client(aiohttp_client, settings, clock, hub)
    response = await browser.get(
        "/r/pavel", headers={"Cookie": "funnel_visitor=" + "A" * 22}, allow_redirects=False
    )
    assert response.status == 302
    assert response.cookies["funnel_visitor"].value != "A" * 22
    assert response.cookies["funnel_visitor"]["path"] == "/r/"
    assert response.cookies["funnel_visitor"]["httponly"]
