"""After bench/ingest.py killed the service: is every answered submission on disk?

Reads the SQLite file with the standard library (opening it replays the WAL, as the
next start of the service would), so it checks what a crash leaves, not what a polite
shutdown flushes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Report:
    ok: bool
    text: str


def verify(db_file: Path, accepted: list[str]) -> Report:
    con = sqlite3.connect(db_file)
    try:
        leads = dict(con.execute("SELECT phone, id FROM lead_entry WHERE phone IS NOT NULL"))
        created = {
            row[0]
            for row in con.execute("SELECT lead_id FROM event_log WHERE name = 'core_lead_created'")
        }
        pending = con.execute(
            "SELECT count(*) FROM event_delivery WHERE status IN ('pending', 'running')"
        ).fetchone()[0]
        deliveries = con.execute("SELECT count(*) FROM event_delivery").fetchone()[0]
    finally:
        con.close()
    missing_lead = [p for p in accepted if p not in leads]
    missing_event = [p for p in accepted if p in leads and leads[p] not in created]
    ok = not missing_lead and not missing_event
    verdict = "OK" if ok else "FAILED"
    lines = [
        f"durability after SIGKILL: {verdict} — {len(accepted)} answered as stored; "
        f"{len(accepted) - len(missing_lead)} leads and "
        f"{len(accepted) - len(missing_lead) - len(missing_event)} core_lead_created events "
        f"found ({len(leads)} leads in the file)",
        f"hub deliveries left pending/running at the kill: {pending} of {deliveries} "
        "(picked up again on the next start)",
    ]
    if missing_lead:
        lines.append(f"  missing leads, e.g. {missing_lead[:5]}")
    if missing_event:
        lines.append(f"  missing core_lead_created, e.g. {missing_event[:5]}")
    return Report(ok, "\n".join(lines))


def pending_deliveries(db_file: Path) -> int:
    con = sqlite3.connect(db_file, timeout=10)
    try:
        row = con.execute(
            "SELECT count(*) FROM event_delivery WHERE status IN ('pending', 'running')"
        ).fetchone()
        return int(row[0])
    finally:
        con.close()
