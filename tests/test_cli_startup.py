"""The commands that never talk to Telegram start without importing aiogram (whose
import alone takes seconds: aiogram#1876, #1891), on SQLite and PostgreSQL — nor the web
server (aiohttp), the scheduler, or the consumers, which only a command that publishes
an event builds (`SignalHub.wire_later`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
import main
commands = [
    ["migrate"],
    ["webinar", "list"],
    ["users", "list"],
    ["leads", "list"],
    ["backup", "--out", sys.argv[1]],
]
for command in commands:
    status = main.main(command)
    assert status == 0, (command, status)
HEAVY = ("aiogram", "jinja2", "aiohttp_jinja2", "docsgen", "aiohttp", "apscheduler",
         "handlers", "scheduler", "delivery", "web", "bot")
heavy = sorted(m for m in HEAVY if m in sys.modules)
print("HEAVY", heavy)
"""


def test_cli_commands_do_not_import_aiogram(settings: Settings, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env |= {
        "DATABASE_URL": settings.database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": settings.secret_key,
        "PYTHONPATH": str(ROOT),
    }
    out = tmp_path / "backup.file"  # PostgreSQL: pg_dump (CI's machine has it)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY []" in done.stdout, done.stdout
    assert out.exists()
