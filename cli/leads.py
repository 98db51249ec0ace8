"""`python main.py leads ...`: list the leads, export them as CSV.

The command line is the system itself: it sees every lead (`--partner` narrows to one
partner's). The export is the same CSV as the bot's `/export` and is recorded as a
`core_leads_exported` event with actor "system".
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tortoise.queryset import QuerySet

from cli.users import fail, parse_telegram_id
from core.clock import Clock
from core.crm import leads_csv, record_export
from core.hub import SignalHub
from core.present import person_name
from core.scope import Reach
from core.settings import Settings
from models import CrmStatus, LeadEntry, User

STATUS_NAMES = ", ".join(s.value for s in CrmStatus)
DEFAULT_LIMIT = 50


class Refused(Exception):
    """Bad input: the message is one line for stderr."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `leads` and its subcommands; each sets `leads_command`."""
    leads = sub.add_parser(
        "leads",
        help="list the leads, export them as CSV",
        description="Every lead, newest first; --partner narrows to one partner's leads.",
    )
    leads.set_defaults(leads_command=None, leads_parser=leads)
    cmds = leads.add_subparsers(title="leads commands", metavar="COMMAND")
    list_p = cmds.add_parser("list", help="the leads as a table, newest first")
    _filters(list_p)
    list_p.add_argument(
        "--limit", metavar="N", default=str(DEFAULT_LIMIT), help=f"at most N rows ({DEFAULT_LIMIT})"
    )
    list_p.set_defaults(leads_command=cmd_list)
    export_p = cmds.add_parser("export", help="the leads as CSV (UTF-8 with BOM, opens in Excel)")
    export_p.add_argument(
        "--out", metavar="FILE", required=True, help="where to write the CSV; - for stdout"
    )
    _filters(export_p)
    export_p.set_defaults(leads_command=cmd_export)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--partner", metavar="TELEGRAM_ID", help="only the leads of this partner (Telegram id)"
    )
    parser.add_argument("--status", metavar="STATUS", help=f"only this CRM status: {STATUS_NAMES}")


async def _query(args: argparse.Namespace) -> QuerySet[LeadEntry]:
    query = LeadEntry.all().order_by("-id")
    if args.partner is not None:
        telegram_id = parse_telegram_id(args.partner)
        if telegram_id is None:
            raise Refused(f"{args.partner!r} is not a Telegram id (a positive number)")
        partner = await User.get_or_none(telegram_id=telegram_id)
        if partner is None:
            raise Refused(f"no user with Telegram id {telegram_id}")
        query = query.filter(partner_id=partner.id)
    if args.status is not None:
        try:
            status = CrmStatus(args.status.strip().lower())
        except ValueError:
            raise Refused(f"unknown status {args.status!r}; valid: {STATUS_NAMES}") from None
        query = query.filter(crm_status=status)
    return query


def _limit(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 0 < int(value) <= 100_000:
        raise Refused(f"--limit {text!r} is not a positive number")
    return int(value)


async def cmd_list(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    try:
        limit = _limit(args.limit)
        query = await _query(args)
    except Refused as exc:
        return fail(str(exc))
    total = await query.count()
    leads = await query.limit(limit)
    if not leads:
        print("no leads")
        return 0
    partner_ids = {lead.partner_id for lead in leads if lead.partner_id}
    partners = {u.id: u for u in await User.filter(id__in=sorted(partner_ids))}
    zone = ZoneInfo(settings.timezone)
    rows = [["ID", "CREATED", "NAME", "CONTACT", "SOURCE", "STATUS", "PARTNER"]]
    for lead in leads:
        partner = partners.get(lead.partner_id) if lead.partner_id else None
        created = datetime.fromtimestamp(lead.lead_created_at, UTC).astimezone(zone)
        rows.append(
            [
                str(lead.id),
                f"{created:%Y-%m-%d %H:%M}",
                _cut(lead.name or "—", 30),
                lead.phone or lead.email or "—",
                lead.lead_source,
                str(CrmStatus(lead.crm_status).value),
                f"{partner.telegram_id} {person_name(partner)}".strip() if partner else "—",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[-1]]))
    if total > len(leads):
        print(f"… {total - len(leads)} more (--limit)")
    return 0


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def cmd_export(
    args: argparse.Namespace, settings: Settings, hub: SignalHub, clock: Clock
) -> int:
    try:
        leads = await (await _query(args))
    except Refused as exc:
        return fail(str(exc))
    data = await leads_csv(leads, settings.timezone)
    problem = _write(args.out, data)
    if problem:
        return fail(problem)
    # Recorded once the file is there: a failed write took nothing out.
    await record_export(hub, clock, len(leads), reach=Reach.ALL, actor=None)
    if args.out != "-":
        print(f"{len(leads)} leads written to {args.out}")
    return 0


def _write(out: str, data: bytes) -> str | None:
    """Write `data` to the file `out` (or stdout for "-"); the problem, if any."""
    try:
        if out == "-":
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            Path(out).write_bytes(data)
    except OSError as exc:
        return f"cannot write {out}: {exc.strerror or exc}"
    return None
