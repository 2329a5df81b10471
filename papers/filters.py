"""
The triage list's filters and sorts, one FilterSet shared by the list, the inbox and the exports:
everything it knows is in the URL's query string.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from papers import recommend, search, versions
from papers.forms import at_most
from papers.models import Assignment, Conference, Lab, Note, Paper, Presentation, ReadingStatus, Session, User

STATE_CHOICES = [("unseen", "Not triaged yet"), *[c for c in ReadingStatus.State.choices if c[0]]]
STARRED_CHOICES = [("me", "Starred by me"), ("lab", "Starred by anyone in the lab")]
SORT_CHOICES = [
    ("relevance", "Best match (when searching)"),
    ("stars", "Most lab stars"),
    ("schedule", "Schedule time"),
    ("for_you", "Suggested for you"),
    ("for_lab", "Suggested by the lab's stars"),
    ("title", "Title"),
]


# Longer searches are refused with a message (and ignored): SQLite builds one condition a word, and
# thousands of words overflow Python's stack building it, a hundred its parser's (a 500 before these limits).
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 32


def _few_enough_words(value: str) -> None:
    count = len(search.words(value))
    if count > SEARCH_MAX_WORDS:
        raise forms.ValidationError(
            f"A search can have at most {SEARCH_MAX_WORDS} words; this one has {count}.", code="max_words"
        )


def _sessions(conference: Conference) -> QuerySet[Session]:
    """The sessions that present papers: the choices of the session filter."""
    return Session.objects.filter(conference=conference, presentations__isnull=False).distinct()


def _day_and_area_choices(conference: Conference) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The choices of the day and area filters: the programme's alone (cached by its version)."""
    days = sorted({day for day in _sessions(conference).values_list("day", flat=True) if day is not None})
    areas = (
        Paper.objects.filter(conference=conference)
        .exclude(primary_area="")
        .order_by("primary_area")
        .values_list("primary_area", flat=True)
        .distinct()
    )
    return [(day.isoformat(), day.strftime("%a %-d %b")) for day in days], [(area, area) for area in areas]


class PaperFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        validators=[at_most("A search", SEARCH_MAX_LENGTH), _few_enough_words],
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Words in title, abstract, authors…",
                "maxlength": SEARCH_MAX_LENGTH,
            }
        ),
    )
    tier = django_filters.ChoiceFilter(choices=[c for c in Paper.Tier.choices if c[0]], empty_label="Any tier")
    day = django_filters.ChoiceFilter(method="filter_day", label="Day", empty_label="Any day")
    session = django_filters.ModelChoiceFilter(
        queryset=Session.objects.none(), method="filter_session", label="Session", empty_label="Any session"
    )
    area = django_filters.ChoiceFilter(field_name="primary_area", label="Area", empty_label="Any area")
    keyword = django_filters.CharFilter(method="filter_keyword", label="Keyword")
    state = django_filters.ChoiceFilter(
        choices=STATE_CHOICES, method="filter_state", label="My triage", empty_label="Any"
    )
    starred = django_filters.ChoiceFilter(
        choices=STARRED_CHOICES, method="filter_starred", label="Stars", empty_label="Any"
    )
    slice = django_filters.ChoiceFilter(
        choices=[("mine", "My slice of the split")], method="filter_slice", label="Slice", empty_label="All papers"
    )
    notes = django_filters.BooleanFilter(method="filter_notes", label="Has notes", widget=forms.CheckboxInput)
    unseen_by_lab = django_filters.BooleanFilter(
        method="filter_unseen_by_lab", label="Not seen by anyone in the lab", widget=forms.CheckboxInput
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="sort_papers", label="Sort", empty_label="Best match, else title"
    )

    class Meta:
        model = Paper
        fields: list[str] = []

    def __init__(self, data=None, *args, lab: Lab, user: User, conference: Conference, **kwargs):
        self.lab, self.user, self.conference = lab, user, conference
        super().__init__(data, *args, **kwargs)
        self.filters["session"].queryset = _sessions(conference)
        days, areas = versions.cached(
            "filter-choices", lambda: _day_and_area_choices(conference), lab=None, conference=conference
        )
        self.filters["day"].extra["choices"] = days
        self.filters["area"].extra["choices"] = areas
        self.has_areas = bool(areas)
        self.has_days = bool(days)

    @property
    def qs(self) -> QuerySet:
        papers = super().qs
        # Sorting is one of the filters, but it must run even when the URL names none.
        if not self.is_bound or not self.form.cleaned_data.get("sort"):
            papers = self.sort_papers(papers, "sort", self.default_sort)
        return papers

    @property
    def default_sort(self) -> str:
        return "relevance" if self.data.get("q", "").strip() else "title"

    @property
    def searching(self) -> bool:
        if self.is_bound and "q" in self.form.errors:
            return False  # a search the form refused (too long) is ignored, and so is its ranking
        return bool(search.words(self.data.get("q", "") or ""))

    # --- the filters ---

    def filter_search(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        return search.search(papers, value)

    def filter_day(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        return papers.filter(Exists(Presentation.objects.filter(paper=OuterRef("pk"), session__day=value)))

    def filter_session(self, papers: QuerySet, name: str, value: Session) -> QuerySet:
        return papers.filter(Exists(Presentation.objects.filter(paper=OuterRef("pk"), session=value)))

    def filter_keyword(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        return search.keyword_filter(papers, value) if value.strip() else papers

    def _my_statuses(self):
        return ReadingStatus.objects.filter(paper=OuterRef("pk"), user=self.user)

    def _lab_statuses(self):
        return ReadingStatus.objects.in_lab(self.lab).filter(paper=OuterRef("pk"))

    def filter_state(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        if value == "unseen":
            return papers.exclude(Exists(self._my_statuses().triaged()))
        return papers.filter(Exists(self._my_statuses().filter(state=value)))

    def filter_starred(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        statuses = self._my_statuses() if value == "me" else self._lab_statuses()
        return papers.filter(Exists(statuses.filter(starred=True)))

    def filter_slice(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        mine = Assignment.objects.filter(paper=OuterRef("pk"), lab=self.lab, user=self.user)
        return papers.filter(Exists(mine))

    def filter_notes(self, papers: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return papers
        visible = Note.objects.filter(paper=OuterRef("pk")).filter(Q(lab=self.lab) | Q(author=self.user))
        return papers.filter(Exists(visible))

    def filter_unseen_by_lab(self, papers: QuerySet, name: str, value: bool) -> QuerySet:
        if not value:
            return papers
        return papers.exclude(Exists(self._lab_statuses().triaged()))

    def sort_papers(self, papers: QuerySet, name: str, value: str) -> QuerySet:
        if value == "relevance" and self.searching:
            return papers.order_by(F("rank").desc(), "title", "pk")
        if value == "stars":
            return papers.with_lab_star_count(self.lab).order_by("-lab_star_count", "title", "pk")
        if value == "for_you":
            return recommend.for_you(papers, user=self.user, lab=self.lab).order_by("-suggestion", "title", "pk")
        if value == "for_lab":
            return recommend.for_lab(papers, lab=self.lab).order_by("-suggestion", "title", "pk")
        if value == "schedule":
            return papers.with_first_slot().order_by(F("first_slot").asc(nulls_last=True), "title", "pk")
        return papers.order_by("title", "pk")


def active_filters(filters: PaperFilter) -> list[tuple[str, str, str]]:
    """(label, shown value, query string without it) for each filter in use: the list's "remove" chips."""
    if not filters.is_bound:
        return []
    filters.form.is_valid()
    active = []
    for name, value in filters.form.cleaned_data.items():
        if name in {"sort"} or value in (None, "", False):
            continue
        field = filters.form[name]
        shown = dict(field.field.choices).get(field.value(), value) if hasattr(field.field, "choices") else value
        if value is True:
            shown = "yes"
        rest = filters.data.copy()
        rest.pop(name, None)
        rest.pop("page", None)
        active.append((str(field.label), str(shown), rest.urlencode()))
    return active
