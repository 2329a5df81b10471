"""
My agenda as iCalendar: an event per presentation of the listed papers, and the lab's own events.

Times are UTC ("Z"). UIDs are stable (`<forum id>-<session id>@iclrnotes`, `event-<session id>@iclrnotes`),
and SEQUENCE / LAST-MODIFIED follow the last change a member can make to an event (the paper's
record, my star, my one-liner), so that a calendar app replaces the events it already holds.
"""

from __future__ import annotations

import datetime as dt

import icalendar

from papers.exporters import one_line
from papers.latex import latex_to_text
from papers.models import Conference, Lab, Paper, Presentation, Session, User

PRODID = "-//iclrnotes//calendar export//EN"
UID_DOMAIN = "iclrnotes"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def calendar(
    papers: list[Paper], *, conference: Conference, lab: Lab, user: User, events: list[Session], now: dt.datetime
) -> bytes:
    """papers from export_queryset (with user's signals), events from markdown.lab_events; now: DTSTAMP."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{conference.name} · {lab.name}")
    for paper in papers:
        for presentation in paper.presentations.all():
            event = _paper_event(paper, presentation, user=user, now=now)
            if event is not None:
                cal.add_component(event)
    for session in events:
        event = _lab_event(session, now=now)
        if event is not None:
            cal.add_component(event)
    return cal.to_ical()


def sequence(changed: dt.datetime) -> int:
    """A number that grows with every change: seconds since 2020."""
    return max(0, int((changed - EPOCH).total_seconds()))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _set_times(event: icalendar.Event, starts, ends, day) -> bool:
    """Timed (UTC) or all-day (VALUE=DATE); False when there is no time at all."""
    if starts is not None:
        event.add("dtstart", _utc(starts))
        if ends is not None and ends > starts:
            event.add("dtend", _utc(ends))
        return True
    if day is not None:
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        return True
    return False


def _paper_event(paper: Paper, presentation: Presentation, *, user: User, now: dt.datetime) -> icalendar.Event | None:
    session = presentation.session
    event = icalendar.Event()
    if not _set_times(event, presentation.starts, presentation.ends, session.day):
        return None
    signals = paper.signals
    mine = next((status for status in paper.lab_statuses if status.user_id == user.pk), None)
    changed = max(
        [paper.updated_at]
        + ([mine.updated_at] if mine else [])
        + ([signals.my_summary.updated_at] if signals.my_summary else [])
    )
    event.add("uid", f"{paper.forum_id}-{session.pk}@{UID_DOMAIN}")
    event.add("dtstamp", _utc(now))
    event.add("last-modified", _utc(changed))
    event.add("sequence", sequence(changed))
    star = "★ " if signals.my_starred else ""
    kind = f" ({session.get_kind_display()})" if session.kind == Session.Kind.ORAL else ""
    event.add("summary", f"{star}{latex_to_text(paper.title)}{kind}")
    location = ", ".join(part for part in (session.room, _board(presentation)) if part)
    if location:
        event.add("location", location)
    description = [one_line(signals.my_summary.body)] if signals.my_summary else []
    description += [session.title, paper.forum_url]
    event.add("description", "\n".join(description))
    event.add("url", paper.forum_url)
    return event


def _board(presentation: Presentation) -> str:
    board = presentation.poster_position
    if not board:
        return ""
    return f"poster {board}" if board.startswith("#") else f"poster #{board}"


def _lab_event(session: Session, *, now: dt.datetime) -> icalendar.Event | None:
    event = icalendar.Event()
    if not _set_times(event, session.starts_at, session.ends_at, session.day):
        return None
    event.add("uid", f"event-{session.pk}@{UID_DOMAIN}")
    event.add("dtstamp", _utc(now))
    # Sessions keep no change time, so a lab event has no SEQUENCE / LAST-MODIFIED to give; a subscribed
    # calendar still picks up its changes, since it replaces the whole feed on every refresh.
    event.add("summary", session.title)
    if session.room:
        event.add("location", session.room)
    event.add("description", session.get_kind_display())
    event.add("categories", [session.get_kind_display()])
    return event
