from django import forms
from django.contrib.auth.forms import UserCreationForm

from papers.models import Lab, Note, ReadingStatus, User


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
