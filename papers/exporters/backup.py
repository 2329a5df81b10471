"""
The full lab export: everything a lab has made, as one versioned JSON document it can keep or take to
another instance (papers.importers.backup reads it back).

What goes in: the lab's members; the statuses of its current members; the notes shared with the lab,
and the private notes of one named user only (the web export: the person asking for it); the lab's own
events; its split; and the papers and conferences all of that refers to. Never anyone else's private
notes. A fixed number of queries, whatever the size of the lab.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from papers.importers.openreview import PAPER_FIELDS  # the paper's own data, one list for both
from papers.models import Assignment, Conference, Lab, Membership, Note, Paper, ReadingStatus, Session, User

FORMAT = "iclrnotes-lab"
VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _conference(conference: Conference) -> dict[str, Any]:
    return {
        "slug": conference.slug,
        "name": conference.name,
        "venue_id": conference.venue_id,
        "start_date": _when(conference.start_date),
        "end_date": _when(conference.end_date),
        "city": conference.city,
        "timezone": conference.timezone,
    }


def _paper(paper: Paper) -> dict[str, Any]:
    return {
        "conference": paper.conference.slug,
        "forum_id": paper.forum_id,
        **{name: getattr(paper, name) for name in PAPER_FIELDS},
    }


def export_lab(lab: Lab, *, private_of: User | None = None) -> dict[str, Any]:
    """The lab as a JSON-ready dict. private_of: the one user whose private notes are included."""
    memberships = list(Membership.objects.filter(lab=lab).select_related("user").order_by("user__username"))
    statuses = list(
        ReadingStatus.objects.in_lab(lab)
        .select_related("user", "paper__conference")
        .order_by("user__username", "paper__conference__slug", "paper__forum_id")
    )
    shared = Note.objects.filter(lab=lab)
    if private_of is not None:
        shared = shared | Note.objects.filter(author=private_of, lab__isnull=True)
    notes = list(shared.select_related("author", "paper__conference").order_by("created_at", "pk"))
    events = list(
        Session.objects.filter(lab=lab)
        .select_related("conference", "created_by")
        .order_by("conference__slug", "day", "starts_at", "title", "pk")
    )
    assignments = list(
        Assignment.objects.filter(lab=lab)
        .select_related("user", "paper__conference")
        .order_by("paper__conference__slug", "paper__forum_id")
    )

    papers: dict[int, Paper] = {}
    for row in (*statuses, *notes, *assignments):
        papers.setdefault(row.paper_id, row.paper)
    conferences: dict[int, Conference] = {paper.conference_id: paper.conference for paper in papers.values()}
    conferences.update({event.conference_id: event.conference for event in events})

    # Authors of shared notes who have left the lab, and whoever made a lab event: users the import needs
    # to know, but not members (role null).
    member_ids = {membership.user_id for membership in memberships}
    others: dict[int, User] = {
        note.author_id: note.author for note in notes if note.author_id is not None and note.author_id not in member_ids
    }
    others.update({event.created_by_id: event.created_by for event in events if event.created_by_id is not None})
    for user_id in member_ids:
        others.pop(user_id, None)

    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "lab": {"name": lab.name, "slug": lab.slug},
        "members": [{"username": m.user.username, "email": m.user.email, "role": m.role} for m in memberships]
        + [
            {"username": user.username, "email": user.email, "role": None}
            for user in sorted(others.values(), key=lambda user: user.username)
        ],
        "conferences": [_conference(c) for c in sorted(conferences.values(), key=lambda c: c.slug)],
        "papers": [
            _paper(p) for p in sorted(papers.values(), key=lambda paper: (paper.conference.slug, paper.forum_id))
        ],
        "sessions": [
            {
                "conference": event.conference.slug,
                "kind": event.kind,
                "title": event.title,
                "day": _when(event.day),
                "starts_at": _when(event.starts_at),
                "ends_at": _when(event.ends_at),
                "room": event.room,
                "created_by": event.created_by.username if event.created_by else None,
            }
            for event in events
        ],
        "statuses": [
            {
                "username": status.user.username,
                "conference": status.paper.conference.slug,
                "forum_id": status.paper.forum_id,
                "state": status.state,
                "starred": status.starred,
                "seen_on": _when(status.seen_on),
                "created_at": _when(status.created_at),
                "updated_at": _when(status.updated_at),
            }
            for status in statuses
        ],
        "notes": [
            {
                "username": note.author_username,  # None: a former member whose account was deleted
                "conference": note.paper.conference.slug,
                "forum_id": note.paper.forum_id,
                "kind": note.kind,
                "body": note.body,
                "done": note.done,
                "shared": note.lab_id is not None,
                "created_at": _when(note.created_at),
                "updated_at": _when(note.updated_at),
            }
            for note in notes
        ],
        "assignments": [
            {
                "username": assignment.user.username,
                "conference": assignment.paper.conference.slug,
                "forum_id": assignment.paper.forum_id,
                "created_at": _when(assignment.created_at),
            }
            for assignment in assignments
        ],
        # No meetings in this version of iclrnotes; the key keeps the format's shape stable.
        "meetings": [],
    }


def export_lab_json(lab: Lab, *, private_of: User | None = None) -> str:
    return json.dumps(export_lab(lab, private_of=private_of), ensure_ascii=False, indent=1)


def export_filename(lab: Lab) -> str:
    return f"iclrnotes-{lab.slug}-{timezone.localdate():%Y-%m-%d}.json"
