"""The room in the running service: a status change made by another process (the command
line) reaches an open room within seconds, through the event log and the service's hub."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from core.clock import FakeClock
from core.settings import Settings
from tests.room_support import Visitor, make_lead, make_webinar, register

MAIN = Path(__file__).resolve().parent.parent / "main.py"


async def test_a_status_set_from_the_command_line_reaches_the_open_room(
    service: Any, service_url: str, settings: Settings, clock: FakeClock
) -> None:
    webinar = await make_webinar(
        service.hub, clock, stream_type="zoom", stream_url="https://zoom.us/j/1"
    )
    lead = await make_lead(clock)
    await register(service.hub, clock, webinar, lead)
    visitor = Visitor(service_url)
    try:
        await visitor.enter(service.links.room_link(webinar, lead.id))
        stream = await visitor.stream()
        assert (await stream.until("state")).data["stage"] == "scheduled"

        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key,
            "DATA_DIR": str(settings.data_dir),
        }
        cli = await asyncio.create_subprocess_exec(
            sys.executable, str(MAIN), "webinar", "set-status", webinar.slug, "live",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await cli.communicate()
        assert cli.returncode == 0, err.decode()
        assert out.decode().strip().endswith(f"{webinar.slug}: live")

        # The other process only stored the event; this service's hub delivers it.
        state = await stream.until("state", timeout=10)
        assert (state.data["stage"], state.data["join_url"]) == ("external", "https://zoom.us/j/1")
        stream.close()
    finally:
        await visitor.close()
