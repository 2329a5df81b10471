"""
A meeting's handout, as Markdown: what to bring to the reading group.

    # Vision Lab reading group

    - When: Monday, June 3, 2024, 14:00-15:00 UTC
    - Where: Room 1

    ## Agenda

    (the agenda's Markdown)

    ## 1. Vision Transformers Need Registers

    Timothée Darcet, Maxime Oquab · ICLR 2024 · https://openreview.net/forum?id=2dnO3LLiJ1

    Presenter: max · Discussion lead: olivia

    > The abstract.

    Notes from the lab:
    - max (One-liner): Registers soak up the artefacts.

Only the lab's shared notes: a handout is passed around, so nobody's private note is ever in it.
"""

from __future__ import annotations

from papers.exporters import markdown_note, markdown_text, one_line
from papers.latex import latex_to_text
from papers.models import Meeting, MeetingPaper, Note


def when(meeting: Meeting) -> str:
    """'Monday, June 3, 2024, 14:00-15:00 (Europe/Vienna)': in the meeting's own time zone."""
    starts = meeting.starts_at.astimezone(meeting.tzinfo)
    text = f"{starts:%A, %B} {starts.day}, {starts.year}, {starts:%H:%M}"
    if meeting.ends_at is not None:
        text += f"-{meeting.ends_at.astimezone(meeting.tzinfo):%H:%M}"
    return f"{text} ({meeting.time_zone})"


def handout(meeting: Meeting, slots: list[MeetingPaper], notes: list[Note]) -> str:
    """slots: papers.meetings.meeting_slots(meeting); notes: the lab's shared notes on those papers, oldest first."""
    lines = [f"# {markdown_text(meeting.lab.name)} reading group", "", f"- When: {when(meeting)}"]
    if meeting.place:
        lines.append(f"- Where: {markdown_text(meeting.place)}")
    if meeting.agenda:
        lines += ["", "## Agenda", "", markdown_note(meeting.agenda.strip())]
    for number, slot in enumerate(slots, start=1):
        paper = slot.paper
        names = (", ".join(paper.authors), paper.conference.name)
        source = " · ".join(part for part in (*map(markdown_text, names), paper.forum_url) if part)
        roles = [f"Presenter: {markdown_text(slot.presenter.username) if slot.presenter else 'open'}"]
        if slot.discussion_lead:
            roles.append(f"Discussion lead: {markdown_text(slot.discussion_lead.username)}")
        lines += ["", f"## {number}. {markdown_text(latex_to_text(paper.title))}", "", source, "", " · ".join(roles)]
        if paper.abstract:
            lines += ["", f"> {markdown_text(one_line(paper.abstract))}"]
        shared = [note for note in notes if note.paper_id == paper.pk and note.lab_id == meeting.lab_id]
        if shared:
            lines += ["", "Notes from the lab:"]
            lines += [
                f"- {_who(note)} ({note.get_kind_display()}): {markdown_note(one_line(note.body))}" for note in shared
            ]
    return "\n".join(lines) + "\n"


def _who(note: Note) -> str:
    """The note's author for the handout; one who left the lab is marked (notes from with_author_standing)."""
    if note.author_id is None:
        return "A former member"
    name = markdown_text(note.author.username)
    return f"{name} (former member)" if note.is_by_former_member else name
