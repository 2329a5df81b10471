from django import forms
from django.contrib.auth.forms import UserCreationForm

from papers.models import Lab, Note, ReadingStatus, User
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
