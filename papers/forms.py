import datetime as dt
import zoneinfo

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.db.models import Q
from django.utils import timezone

from papers.models import (
    FORUM_ID,
    Conference,
    Lab,
    Meeting,
    Note,
    Paper,
    ReadingStatus,
    Session,
    User,
    validate_timezone,
)
from papers.schedule import EVENT_KINDS
from papers.services import SPLIT_METHODS, MeetingSlot


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; for password resets.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


# --- Notes on a paper ---------------------------------------------------------------------------------

NOTE_MAX_LENGTH = 10_000
SUMMARY_MAX_LENGTH = 300


def _check_note_body(kind: str, body: str) -> None:
    """The limits of a note's text; a one-liner is short and on one line, as the trip report prints it."""
    if len(body) > NOTE_MAX_LENGTH:
        raise forms.ValidationError(
            f"A note can be at most {NOTE_MAX_LENGTH:,} characters long; this one has {len(body):,}.",
            code="max_length",
        )
    if kind == Note.Kind.SUMMARY:
        if "\n" in body or "\r" in body:
            raise forms.ValidationError(
                "A one-liner is a single line: choose “Note” for more than one line.", code="multiline"
            )
        if len(body) > SUMMARY_MAX_LENGTH:
            raise forms.ValidationError(
                f"A one-liner can be at most {SUMMARY_MAX_LENGTH} characters long; this one has {len(body):,}. "
                "Choose “Note” for more.",
                code="summary_max_length",
            )


class _NoteVisibilityMixin:
    """Shared with the lab whose page it is, or private to its author."""

    SHARED, PRIVATE, KEEP = "lab", "private", "keep"

    def _visibility_choices(self, lab: Lab, note_lab: Lab | None = None) -> list[tuple[str, str]]:
        choices = [(self.SHARED, f"Shared with {lab.name}"), (self.PRIVATE, "Private: only me")]
        if note_lab is not None and note_lab.pk != lab.pk:
            # The author's note shared with another of their labs: editing it here does not move it.
            choices.insert(0, (self.KEEP, f"Shared with {note_lab.name}"))
        return choices

    def note_lab(self) -> Lab | None:
        """The lab the note is shared with (None: private), from the cleaned visibility."""
        visibility = self.cleaned_data["visibility"] or self.PRIVATE
        return {self.SHARED: self.lab, self.PRIVATE: None, self.KEEP: self.kept_lab}[visibility]


class NoteForm(_NoteVisibilityMixin, forms.Form):
    """A new note on a paper, shared with the lab or private. A post that does not say stays private."""

    kind = forms.ChoiceField(choices=Note.Kind.choices, initial=Note.Kind.NOTE, label="Kind")
    body = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": NOTE_MAX_LENGTH}),
        strip=True,
        help_text="Markdown: **bold**, *italic*, lists, [links](https://…). A one-liner replaces your earlier one.",
        error_messages={"required": "Write something first: the note is empty."},
    )
    visibility = forms.ChoiceField(widget=forms.RadioSelect, required=False, initial="lab", label="Who sees it")

    def __init__(self, *args, lab: Lab, **kwargs) -> None:
        kwargs.setdefault("auto_id", "note-add-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.lab = self.kept_lab = lab
        self.fields["visibility"].choices = self._visibility_choices(lab)

    def clean(self) -> dict:
        cleaned = super().clean()
        if "kind" in cleaned and cleaned.get("body"):
            try:
                _check_note_body(cleaned["kind"], cleaned["body"])
            except forms.ValidationError as error:
                self.add_error("body", error)
        return cleaned


class NoteEditForm(_NoteVisibilityMixin, forms.Form):
    """An edit of one's own note, made from the version the editor loaded (see services.edit_note)."""

    body = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": NOTE_MAX_LENGTH}),
        strip=True,
        help_text="Markdown: **bold**, *italic*, lists, [links](https://…).",
        error_messages={"required": "Write something first: the note is empty (delete it instead)."},
    )
    visibility = forms.ChoiceField(widget=forms.RadioSelect, label="Who sees it")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, lab: Lab, note: Note, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"note-{note.pk}-%s")
        kwargs.setdefault("label_suffix", "")
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", {"body": note.body, "version": note.version})
            kwargs["initial"].setdefault("visibility", self._initial_visibility(lab, note))
        super().__init__(*args, **kwargs)
        self.lab, self.note, self.kept_lab = lab, note, note.lab
        self.fields["visibility"].choices = self._visibility_choices(lab, note.lab)

    def _initial_visibility(self, lab: Lab, note: Note) -> str:
        if note.lab_id is None:
            return self.PRIVATE
        return self.SHARED if note.lab_id == lab.pk else self.KEEP

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        _check_note_body(self.note.kind, body)
        return body


class StarForm(forms.Form):
    """A star is set, not toggled: the button says which way, so a double click does no harm."""

    starred = forms.TypedChoiceField(
        choices=[("1", "Star"), ("0", "Unstar")],
        coerce=lambda value: value == "1",
        error_messages={"required": "starred must be 1 or 0.", "invalid_choice": "starred must be 1 or 0."},
    )


class StateForm(forms.Form):
    state = forms.ChoiceField(
        choices=ReadingStatus.State.choices,
        required=False,
        error_messages={
            "invalid_choice": "state must be one of: (empty), skipped, shortlisted, reading, read.",
        },
    )

    def clean(self):
        cleaned = super().clean()
        if "state" not in self.data:
            raise forms.ValidationError("state must be one of: (empty), skipped, shortlisted, reading, read.")
        return cleaned


def first_error(form: forms.Form) -> str:
    return next(iter(error for errors in form.errors.values() for error in errors))


# --- The triage inbox ---------------------------------------------------------------------------------

TRIAGE_ACTIONS = ["skip", "shortlist", "reading", "read", "star", "unstar"]  # services.TRIAGE_ACTION_*


class TriageDecisionForm(forms.Form):
    """A decision in the triage inbox: which paper (its forum id) and what to do with it."""

    paper = forms.CharField(max_length=64, error_messages={"required": "paper (a forum id) is required."})
    action = forms.ChoiceField(
        choices=[(action, action) for action in TRIAGE_ACTIONS],
        error_messages={
            "required": f"action must be one of: {', '.join(TRIAGE_ACTIONS)}.",
            "invalid_choice": f"action must be one of: {', '.join(TRIAGE_ACTIONS)}.",
        },
    )


class TriageUndoForm(forms.Form):
    """
    The inbox's undo: the change it offers to undo (the forum id and the depth of the undo stack when the
    page was drawn) and the card it was on. Every field is optional: a post that names no change, or
    another change than the last, undoes nothing.
    """

    undo = forms.CharField(max_length=64, required=False)
    depth = forms.IntegerField(min_value=0, required=False)
    paper = forms.CharField(max_length=64, required=False)


class LabForm(forms.Form):
    name = forms.CharField(max_length=100, label="Lab name", help_text="e.g. Vision Lab, Smith group.")


class InviteForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=14, label="Valid for (days)")
    max_uses = forms.IntegerField(
        min_value=1, max_value=500, required=False, label="Use limit", help_text="Empty: as many people as you like."
    )


class SplitForm(forms.Form):
    method = forms.ChoiceField(
        choices=[],
        error_messages={"required": "Choose how to split.", "invalid_choice": "Choose how to split."},
    )
    members = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        error_messages={"required": "Choose at least one member of the lab to split the papers between."},
    )

    def __init__(self, *args, lab: Lab, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = list(SPLIT_METHODS.items())
        self.fields["members"].queryset = User.objects.filter(memberships__lab=lab)


class ScheduleFilterForm(forms.Form):
    """The schedule's filters, from the query string: my agenda, the lab's stars, one kind of session."""

    mine = forms.BooleanField(required=False, label="My agenda")
    lab = forms.BooleanField(required=False, label="The lab's stars")
    kind = forms.ChoiceField(required=False, label="Kind", choices=[("", "All kinds"), *Session.Kind.choices])


class EventForm(forms.Form):
    """A lab's own event. Times are local to the conference (its time zone), as on its programme."""

    title = forms.CharField(max_length=300, error_messages={"required": "Give the event a title."})
    kind = forms.ChoiceField(choices=[])
    day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), error_messages={"required": "Choose the day of the event."}
    )
    starts = forms.TimeField(
        required=False, label="Starts", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends = forms.TimeField(required=False, label="Ends", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    room = forms.CharField(max_length=200, required=False, label="Where", help_text="A room, a restaurant, an address.")

    def __init__(self, *args, conference: Conference, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conference = conference
        kinds = dict(Session.Kind.choices)
        self.fields["kind"].choices = [(kind, kinds[kind]) for kind in EVENT_KINDS]
        self.fields["kind"].initial = Session.Kind.SOCIAL
        zone = conference.timezone.replace("_", " ")
        self.fields["starts"].help_text = f"Optional; {zone} time."
        self.fields["ends"].help_text = f"Optional; {zone} time."
        for name in ("title", "room"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    @classmethod
    def for_event(cls, event: Session, *args, **kwargs) -> "EventForm":
        """The form filled with an event as stored: its times back in the conference's local time."""
        zone = event.conference.tzinfo
        initial = {
            "title": event.title,
            "kind": event.kind,
            "day": event.day,
            "starts": timezone.localtime(event.starts_at, zone).time() if event.starts_at else None,
            "ends": timezone.localtime(event.ends_at, zone).time() if event.ends_at else None,
            "room": event.room,
        }
        return cls(*args, conference=event.conference, initial=initial, **kwargs)

    def clean_day(self):
        day = self.cleaned_data["day"]
        first, last = self.conference.start_date, self.conference.end_date
        if first and last and not first <= day <= last:
            raise forms.ValidationError(
                f"Choose a day of the conference, from {first:%a %-d %b} to {last:%a %-d %b %Y}."
            )
        return day

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if ends and not starts:
            self.add_error("starts", "Give a start time too, or leave both times empty for an all-day event.")
        elif starts and ends and ends <= starts:
            self.add_error("ends", "The event must end after it starts (an event past midnight: leave the end empty).")
        return cleaned


class ClashChoiceForm(forms.Form):
    """Of two clashing papers I starred, the one I go to (keep) and the one I unstar (drop)."""

    keep = forms.RegexField(regex=rf"^{FORUM_ID.pattern}$", max_length=64)
    drop = forms.RegexField(regex=rf"^{FORUM_ID.pattern}$", max_length=64)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("keep") and cleaned.get("keep") == cleaned.get("drop"):
            raise forms.ValidationError("Choose two different papers.")
        return cleaned


# --- The reading group -----------------------------------------------------------------------------------


class VoteForm(forms.Form):
    """A vote is set, not toggled (vote=1 votes, vote=0 takes it back): a double click does no harm."""

    paper = forms.ModelChoiceField(
        queryset=Paper.objects.all(), error_messages={"invalid_choice": "There is no such paper."}
    )
    vote = forms.TypedChoiceField(
        choices=[("1", "Vote"), ("0", "Take back")],
        coerce=lambda value: value == "1",
        error_messages={"required": "vote must be 1 or 0.", "invalid_choice": "vote must be 1 or 0."},
    )


class NominateForm(forms.Form):
    """Nominate a paper (nominate=1, the default) or withdraw its nomination (nominate=0)."""

    paper = forms.ModelChoiceField(
        queryset=Paper.objects.all(), error_messages={"invalid_choice": "There is no such paper."}
    )
    nominate = forms.TypedChoiceField(
        choices=[("1", "Nominate"), ("0", "Withdraw")],
        coerce=lambda value: value == "1",
        required=False,
        empty_value=True,
        error_messages={"invalid_choice": "nominate must be 1 or 0."},
    )


class CandidateFilterForm(forms.Form):
    """The candidates page's GET filters: one conference, and a title search for papers to nominate."""

    conference = forms.ModelChoiceField(
        queryset=Conference.objects.all(), to_field_name="slug", required=False, empty_label="All conferences"
    )
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Find a paper to nominate",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Words of its title", "autocomplete": "off"}),
    )


# --- The reading group's meetings ---------------------------------------------------------------------


def at_most(what: str, limit: int):
    """A validator of a text's length whose message says both numbers the way a person reads them."""

    def validate(value: str) -> None:
        if len(value) > limit:
            raise forms.ValidationError(
                f"{what} can be at most {limit:,} characters long; this one has {len(value):,}.", code="max_length"
            )

    return validate


# How many of the lab's candidate papers the meeting form offers (more come by forum id or ?papers=).
MEETING_FORM_CANDIDATES = 12


class MeetingForm(forms.Form):
    """
    A meeting: when (a day and times in a time zone, stored as aware datetimes), where, the agenda, and
    its papers, each with a presenter and a discussion lead. Papers are ticked in `papers` (paper pks)
    from the lab's candidates (nominated or starred by a member), or added by forum id. Each paper row's
    presenter is pre-filled from the rotation (papers.meetings.rotation); empty leaves the slot open.
    """

    day = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), error_messages={"required": "Choose the day of the meeting."}
    )
    starts = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Choose when the meeting starts."},
    )
    ends = forms.TimeField(required=False, label="Ends", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    time_zone = forms.CharField(
        max_length=64,
        initial="UTC",
        validators=[validate_timezone],
        widget=forms.TextInput(attrs={"placeholder": "e.g. Europe/Vienna", "autocomplete": "off"}),
    )
    place = forms.CharField(max_length=300, required=False, label="Where", help_text="A room, or a video-call link.")
    agenda = forms.CharField(
        required=False,
        validators=[at_most("An agenda", NOTE_MAX_LENGTH)],
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": NOTE_MAX_LENGTH}),
        help_text="Markdown: **bold**, lists, [links](…).",
    )
    papers = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)
    forum_id = forms.RegexField(
        regex=rf"^{FORUM_ID.pattern}$",
        max_length=64,
        required=False,
        label="Or add a paper by forum id",
        help_text="Its OpenReview forum id, e.g. 2dnO3LLiJ1.",
        error_messages={"invalid": "A forum id has only letters, digits, - and _."},
    )

    def __init__(
        self,
        *args,
        lab: Lab,
        members: list[User],
        meeting: Meeting | None = None,
        slots: list | None = None,
        preselected: list[int] = (),
        **kwargs,
    ) -> None:
        """members: the lab's members in rotation order (papers.meetings.rotation); slots: the meeting's."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.lab, self.meeting = lab, meeting
        self.members = {member.pk: member for member in members}
        slots = list(slots or [])
        taken = {slot.paper_id: slot for slot in slots}
        wanted = [pk for pk in preselected if pk not in taken]
        # The lab's most starred nominations and stars (a form, not the whole candidates page), plus any
        # paper asked for by ?papers=.
        offered = (
            Paper.objects.filter(
                Q(nominations__lab=lab)
                | Q(reading_statuses__starred=True, reading_statuses__user__memberships__lab=lab)
            )
            .exclude(pk__in=taken)
            .with_lab_star_count(lab)
            .distinct()
            .order_by("-lab_star_count", "title", "pk")[:MEETING_FORM_CANDIDATES]
        )
        candidates = {
            paper.pk: paper
            for paper in Paper.objects.filter(Q(pk__in=offered.values("pk")) | Q(pk__in=wanted))
            .exclude(pk__in=taken)
            .select_related("conference")
            .order_by("title", "pk")
        }
        first = [candidates.pop(pk) for pk in wanted if pk in candidates]
        papers = [slot.paper for slot in slots] + first + list(candidates.values())
        self.fields["papers"].choices = [(paper.pk, paper.title) for paper in papers]
        if not self.is_bound:
            self.initial.setdefault("papers", [slot.paper_id for slot in slots] + [paper.pk for paper in first])
        people = [("", "Open (a volunteer)")] + [(member.pk, member.username) for member in members]
        suggestions = iter(members * (len(papers) // max(len(members), 1) + 1))
        self.rows = []
        for paper in papers:
            slot = taken.get(paper.pk)
            presenter = slot.presenter_id if slot else (next(suggestions).pk if members else None)
            for role, initial in (("presenter", presenter), ("lead", slot.discussion_lead_id if slot else None)):
                self.fields[f"{role}_{paper.pk}"] = forms.TypedChoiceField(
                    choices=people, coerce=int, empty_value=None, required=False, initial=initial,
                    label="Presenter" if role == "presenter" else "Discussion lead",
                )  # fmt: skip
            self.rows.append((paper, self[f"presenter_{paper.pk}"], self[f"lead_{paper.pk}"]))
        self.paper_by_pk = {paper.pk: paper for paper in papers}

    @classmethod
    def for_meeting(cls, meeting: Meeting, *args, **kwargs) -> "MeetingForm":
        """The form filled with a meeting as stored, in its own time zone."""
        starts = meeting.starts_at.astimezone(meeting.tzinfo)
        initial = {
            "day": starts.date(),
            "starts": starts.time(),
            "ends": meeting.ends_at.astimezone(meeting.tzinfo).time() if meeting.ends_at else None,
            "time_zone": meeting.time_zone,
            "place": meeting.place,
            "agenda": meeting.agenda,
        }
        return cls(*args, meeting=meeting, initial=initial, **kwargs)

    def clean_forum_id(self) -> Paper | None:
        forum_id = self.cleaned_data["forum_id"]
        if not forum_id:
            return None
        paper = (
            Paper.objects.filter(forum_id=forum_id)
            .select_related("conference")
            .order_by("-conference__start_date", "-pk")
            .first()
        )
        if paper is None:
            raise forms.ValidationError(f"No paper has the forum id {forum_id}.")
        return paper

    def clean(self) -> dict:
        cleaned = super().clean()
        day, starts, ends, zone = (cleaned.get(name) for name in ("day", "starts", "ends", "time_zone"))
        if day and starts and zone:
            tz = zoneinfo.ZoneInfo(zone)
            cleaned["starts_at"] = timezone.make_aware(dt.datetime.combine(day, starts), tz)
            cleaned["ends_at"] = timezone.make_aware(dt.datetime.combine(day, ends), tz) if ends else None
            if ends and ends <= starts:
                self.add_error("ends", "The meeting must end after it starts (past midnight: leave the end empty).")
        chosen = [pk for pk in cleaned.get("papers", []) if pk in self.paper_by_pk]
        extra = cleaned.get("forum_id")
        if not chosen and extra is None and "forum_id" not in self.errors:
            self.add_error("papers", "Choose at least one paper to read: tick it, or give its forum id.")
        slots = []
        for pk in chosen:
            # The choices are the lab's members: anyone else is an invalid choice of the field.
            presenter, lead = cleaned.get(f"presenter_{pk}"), cleaned.get(f"lead_{pk}")
            people = {"presenter": self.members.get(presenter), "lead": self.members.get(lead)}
            slots.append(MeetingSlot(paper=self.paper_by_pk[pk], **people))
        if extra is not None and extra.pk not in chosen:
            busy = {slot.presenter.pk for slot in slots if slot.presenter}
            free = next((member for member in self.members.values() if member.pk not in busy), None)
            slots.append(MeetingSlot(paper=extra, presenter=free))
        cleaned["slots"] = slots
        return cleaned


class VolunteerForm(forms.Form):
    paper = forms.IntegerField(error_messages={"required": "Say which paper (its pk).", "invalid": "paper is a pk."})
    role = forms.ChoiceField(
        choices=[("presenter", "Presenter"), ("lead", "Discussion lead")],
        error_messages={
            "required": "role must be presenter or lead.",
            "invalid_choice": "role must be presenter or lead.",
        },
    )


class MeetingHeldForm(forms.Form):
    attendees = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, members: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.members = {member.pk: member for member in members}
        self.fields["attendees"].choices = [(member.pk, member.username) for member in members]

    def clean_attendees(self) -> list[User]:
        return [self.members[pk] for pk in self.cleaned_data["attendees"]]
