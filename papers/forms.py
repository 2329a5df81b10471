from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone

from papers.models import FORUM_ID, Conference, Lab, Note, ReadingStatus, Session, User
from papers.schedule import EVENT_KINDS
from papers.services import SPLIT_METHODS


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
