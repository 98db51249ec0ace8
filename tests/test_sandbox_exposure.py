"""The sandbox never faces the internet: settings refuse to expose it, its routes serve
loopback clients under a loopback Host only, and its fake Bot API's token is new in
every process."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import main
from sandbox.api import FAKE

OLD_FIXED_TOKEN = "1000000001:sandbox-token-not-telegram"


# ---- settings -----------------------------------------------------------------------------


def migrate_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> int:
    """`main.py migrate` with these of the three variables set (and the others unset)."""
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "WEB_HOST", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main.main(["migrate"])


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"BOT_TOKEN": " "}, "BOT_TOKEN: is blank"),
        ({"BOT_TOKEN": "\t"}, "BOT_TOKEN: is blank"),
        ({"WEB_HOST": "0.0.0.0"}, "WEB_HOST: the sandbox (no BOT_TOKEN) serves only this machine"),
        ({"WEB_HOST": "192.0.2.10"}, "WEB_HOST"),
        ({"PUBLIC_URL": "https://funnel.example"}, "PUBLIC_URL: the sandbox"),
        ({"WEB_HOST": "0.0.0.0", "BOT_TOKEN": " "}, "BOT_TOKEN"),
    ],
)
def test_an_exposed_sandbox_refuses_to_start_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    words: str,
) -> None:
    assert migrate_with(tmp_path, monkeypatch, env) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert words in lines[0]
    assert not (tmp_path / "data").exists()  # nothing was started or created


@pytest.mark.parametrize(
    "env",
    [
        {"WEB_HOST": "localhost"},
        {"WEB_HOST": "::1", "PUBLIC_URL": "http://[::1]:8080"},
        {"WEB_HOST": "127.0.0.1", "PUBLIC_URL": "http://localhost:8080"},
        {"WEB_HOST": "0.0.0.0", "BOT_TOKEN": "123456:" + "A" * 35},  # not the sandbox
    ],
)
def test_loopback_sandboxes_and_real_bots_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    assert migrate_with(tmp_path, monkeypatch, env) == 0


# ---- the routes -------------------------------------------------------------------------


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (a route out), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: nothing is sent
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture
async def exposed(settings: Any, clock: Any) -> AsyncIterator[tuple[main.Runtime, int]]:
    """The sandbox listening on every interface, as if settings had been bypassed."""
    rt = main.build(settings.model_copy(update={"web_host": "0.0.0.0"}), clock)
    await main.start(rt)
    assert rt.runner is not None
    yield rt, rt.runner.addresses[0][1]
    await main.stop(rt)


SANDBOX_PATHS = ("/sandbox", "/sandbox/api/state", "/sandbox/static/sandbox.js")


async def test_a_client_from_another_machine_is_refused(exposed: tuple[main.Runtime, int]):
    rt, port = exposed
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to connect from")
    async with aiohttp.ClientSession() as http:
        for path in SANDBOX_PATHS:
            async with http.get(f"http://{address}:{port}{path}") as response:
                assert response.status == 403, path
                assert "this machine only" in await response.text()
        get_me = f"http://{address}:{port}{main.SANDBOX_API_PREFIX}/bot{rt.bot_token}/getMe"
        async with http.get(get_me) as response:
            assert response.status == 403
        # The product itself is public: the form still answers.
        async with http.get(f"http://{address}:{port}/") as response:
            assert response.status == 200
        # The same sandbox answers this machine.
        async with http.get(f"http://127.0.0.1:{port}/sandbox/api/state") as response:
            assert response.status == 200


@pytest.mark.parametrize("path", SANDBOX_PATHS)
async def test_a_rebound_host_name_is_refused(service_url: str, path: str) -> None:
    # DNS rebinding: evil.example now resolves to 127.0.0.1; the browser still says so.
    port = service_url.rsplit(":", 1)[1]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{service_url}{path}", headers={"Host": f"evil.example:{port}"}) as response,
    ):
        assert response.status == 403
        assert "loopback Host" in await response.text()


async def test_a_rebound_page_cannot_act_as_a_user(service: Any, service_url: str) -> None:
    port = service_url.rsplit(":", 1)[1]
    headers = {
        "X-Sandbox": "1",
        "Host": f"evil.example:{port}",
        "Origin": f"http://evil.example:{port}",
    }
    async with aiohttp.ClientSession() as http:
        url = f"{service_url}/sandbox/api/users"
        async with http.post(url, json={"first_name": "Mallory"}, headers=headers) as response:
            assert response.status == 403
    assert service.app[FAKE].world.users == {}


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://127.0.0.1",  # another port is another site
        "http://127.0.0.1:1",
        "https://127.0.0.1:{port}",
        "null",
        "http://127.0.0.1:{port}.evil.example",
    ],
)
async def test_only_this_servers_loopback_origins_may_act(
    service: Any, service_url: str, origin: str
) -> None:
    port = service_url.rsplit(":", 1)[1]
    headers = {"X-Sandbox": "1", "Origin": origin.format(port=port)}
    async with aiohttp.ClientSession() as http:
        url = f"{service_url}/sandbox/api/users"
        async with http.post(url, json={"first_name": "Z"}, headers=headers) as response:
            assert response.status == 403
    assert service.app[FAKE].world.users == {}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_origins_are_accepted(service_url: str, host: str) -> None:
    port = service_url.rsplit(":", 1)[1]
    headers = {"X-Sandbox": "1", "Origin": f"http://{host}:{port}", "Host": f"{host}:{port}"}
    async with aiohttp.ClientSession() as http:
        url = f"{service_url}/sandbox/api/users"
        async with http.post(url, json={"first_name": "Z"}, headers=headers) as response:
            assert response.status == 200, await response.text()


async def test_the_fake_bot_api_token_is_new_in_every_process(
    service: Any, service_url: str, settings: Any, clock: Any
) -> None:
    other = main.build(settings, clock)
    assert service.bot_token != other.bot_token
    assert len(service.bot_token.split(":", 1)[1]) >= 32
    async with aiohttp.ClientSession() as http:
        base = f"{service_url}{main.SANDBOX_API_PREFIX}"
        async with http.post(f"{base}/bot{OLD_FIXED_TOKEN}/getMe") as response:
            assert response.status == 401
        async with http.post(f"{base}/bot{service.bot_token}/getMe") as response:
            assert response.status == 200
