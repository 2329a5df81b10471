"""
One reading-group meeting as iCalendar, with the conventions of papers.exporters.ics: times in UTC ("Z"),
a stable UID (`meeting-<pk>@iclrnotes`), SEQUENCE / LAST-MODIFIED from the meeting's last change, so that
a calendar app that imports it again replaces the event instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt

import icalendar

from papers.exporters.ics import PRODID, UID_DOMAIN, _utc, sequence
from papers.latex import latex_to_text
from papers.models import Meeting, MeetingPaper


def meeting_calendar(meeting: Meeting, slots: list[MeetingPaper], *, url: str, now: dt.datetime) -> bytes:
    """slots: papers.meetings.meeting_slots(meeting); url: the meeting page's absolute URL; now: DTSTAMP."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"meeting-{meeting.pk}@{UID_DOMAIN}")
    event.add("dtstamp", _utc(now))
    event.add("dtstart", _utc(meeting.starts_at))
    if meeting.ends_at is not None and meeting.ends_at > meeting.starts_at:
        event.add("dtend", _utc(meeting.ends_at))
    event.add("last-modified", _utc(meeting.updated_at))
    event.add("sequence", sequence(meeting.updated_at))
    event.add("summary", f"{meeting.lab.name} reading group")
    if meeting.place:
        event.add("location", meeting.place)
    lines = []
    for slot in slots:
        who = f"presented by {slot.presenter.username}" if slot.presenter else "presenter open"
        lines.append(f"{latex_to_text(slot.paper.title)} ({who}) {slot.paper.forum_url}")
    event.add("description", "\n".join([*lines, url]))
    event.add("url", url)
    cal.add_component(event)
    return cal.to_ical()
