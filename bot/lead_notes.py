"""A lead's notes, fitted to Telegram's 4,096 characters: the card shows the newest notes
that fit (each a preview) and, when there are more, a button to the notes pages, which
show notes in full, newest first, as many as fit on a page, with Older/Newer buttons.

How much fits is measured as Telegram measures it (`core/telegram_limits.py`), so a lead
with long emoji-heavy fields and many notes still gets a card that opens.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.context import Translate
from core.present import person_name
from core.telegram_limits import TEXT_LIMIT, fit_html, visible_length
from delivery.callbacks import CardInPlace, NotesPage
from delivery.outbox import Button, Buttons
from locales import N_
from models import LeadEntry, LeadNote, User

NOTES_ON_CARD = 5
NOTE_PREVIEW = 300  # characters of a note on the card; the notes pages show it all
PAGE_WINDOW = 100  # notes read around a page: more never fit on one
# Room kept for the line that says how many older notes there are.
MORE_LINE = 80

When = Callable[[float], str]


@dataclass(frozen=True)
class CardNotes:
    lines: list[str]
    more: bool  # notes not shown in full: the card offers the notes pages


def _preview(text: str) -> str:
    return text if len(text) <= NOTE_PREVIEW else text[:NOTE_PREVIEW] + "…"


async def _authors(notes: Sequence[LeadNote]) -> dict[int, User]:
    ids = sorted({n.author_id for n in notes if n.author_id})
    return {u.id: u for u in await User.filter(id__in=ids)}


def _line(note: LeadNote, authors: dict[int, User], t: Translate, when: When, text: str) -> str:
    author = authors.get(note.author_id) if note.author_id else None
    by = (person_name(author) if author else "") or t(N_("system"))
    return f"• <i>{when(note.at)}, {html.escape(by)}</i>: {html.escape(text)}"


async def card_notes(lead: LeadEntry, t: Translate, when: When, room: int) -> CardNotes:
    """The card's notes section within `room` characters: the newest notes that fit."""
    total = await LeadNote.filter(lead_id=lead.id).count()
    header = f"{html.escape(t(N_('Notes')))}:"
    if not total:
        return CardNotes([f"{header} {html.escape(t(N_('none yet')))}"], more=False)
    notes = await LeadNote.filter(lead_id=lead.id).order_by("-at", "-id").limit(NOTES_ON_CARD)
    authors = await _authors(notes)
    lines = [header]
    used = visible_length(header) + 1
    shown = 0
    cut = False
    for note in notes:
        line = _line(note, authors, t, when, _preview(note.text))
        if used + visible_length(line) + 1 > room - MORE_LINE:
            break
        lines.append(line)
        used += visible_length(line) + 1
        shown += 1
        cut = cut or len(note.text) > NOTE_PREVIEW
    if shown < total:
        older = t(N_("Older notes: {count}. They are under “All notes”.")).format(
            count=total - shown
        )
        lines.append(f"<i>{html.escape(older)}</i>")
    return CardNotes(lines, more=shown < total or cut)


async def notes_page(lead: LeadEntry, t: Translate, when: When, start: int) -> tuple[str, Buttons]:
    """Notes from the `start`-th newest on, in full, as many as fit, with paging buttons."""
    total = await LeadNote.filter(lead_id=lead.id).count()
    title = f"<b>{html.escape(lead.name or '—')}</b> #{lead.id}"
    back = (Button("◀ " + t(N_("Back to the card")), callback=CardInPlace(lead_id=lead.id).pack()),)
    if not total:
        return f"{title}\n{html.escape(t(N_('Notes')))}: {html.escape(t(N_('none yet')))}", (back,)
    start = min(max(start, 0), total - 1)
    first = max(0, start - PAGE_WINDOW)
    window = list(
        await LeadNote.filter(lead_id=lead.id)
        .order_by("-at", "-id")
        .offset(first)
        .limit(start - first + PAGE_WINDOW)
    )
    authors = await _authors(window)
    lines = [_line(n, authors, t, when, n.text) for n in window]
    # The heading says which notes; its numbers are not known before the page is filled,
    # so room is kept for its longest form.
    heading_room = visible_length(title) + 60
    room = TEXT_LIMIT - heading_room
    shown = _fill(lines[start - first :], room)
    newer_start = start - _fill(lines[: start - first][::-1], room)
    body = [fit_html(line, room) for line in lines[start - first : start - first + shown]]
    heading = t(N_("Notes {first}–{last} of {total}, newest first")).format(
        first=start + 1, last=start + shown, total=total
    )
    text = "\n".join([title, html.escape(heading), "", *body])
    turn = []
    if start > 0:
        newer = NotesPage(lead_id=lead.id, start=newer_start).pack()
        turn.append(Button("◀ " + t(N_("Newer")), callback=newer))
    if start + shown < total:
        older = NotesPage(lead_id=lead.id, start=start + shown).pack()
        turn.append(Button(t(N_("Older")) + " ▶", callback=older))
    return text, (tuple(turn), back) if turn else (back,)


def _fill(lines: Sequence[str], room: int) -> int:
    """How many of `lines`, in order, fit in `room` (at least one: it is cut to fit)."""
    used = count = 0
    for line in lines:
        size = visible_length(line) + 1
        if count and used + size > room:
            break
        used += size
        count += 1
    return count
