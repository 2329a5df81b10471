"""
The data model of iclrnotes.

Conference data (Conference, Session, Paper, Presentation) is public and shared by every lab.
A lab's own data (ReadingStatus, Note) is private to the lab; a private note (no lab) to its author.
"""

from __future__ import annotations

import re
import secrets
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from papers import search
from papers.rendering import render_inline_markdown, render_markdown

OPENREVIEW = "https://openreview.net"
# An OpenReview forum id (e.g. 2dnO3LLiJ1): it is part of our URLs, so nothing else may get in.
FORUM_ID = re.compile(r"[A-Za-z0-9_-]+")


class User(AbstractUser):
    """Our own user model from day one, so adding profile fields later needs no migration dance."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (use a name such as Europe/Vienna).")


def save_keeping_version(instance: models.Model, version_field: str, save: Callable, args, kwargs) -> None:
    """
    Save an existing row without its version counter: papers.versions bumps it with an UPDATE, so the copy
    in hand may be older, and writing it back would undo a bump (and bring back a stale cached page).
    """
    if not instance._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
        kwargs["update_fields"] = [
            field.name
            for field in instance._meta.concrete_fields
            if not field.primary_key and field.name != version_field
        ]
    save(*args, **kwargs)


class ConferenceQuerySet(models.QuerySet):
    def with_paper_counts(self) -> ConferenceQuerySet:
        return self.annotate(paper_count=models.Count("papers"))


# Pages of every lab (/labs/<lab>/invite/, …): a conference cannot have these slugs.
RESERVED_CONFERENCE_SLUGS = {"invite", "invites", "meetings", "members", "leave", "export", "import"}


class Conference(models.Model):
    slug = models.SlugField(unique=True, help_text="Used in URLs, e.g. iclr-2024.")
    name = models.CharField(max_length=200, help_text="e.g. ICLR 2024.")
    venue_id = models.CharField(
        max_length=200, blank=True, help_text="OpenReview venue id, e.g. ICLR.cc/2024/Conference."
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    city = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], help_text="e.g. Europe/Vienna."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    programme_version = models.PositiveBigIntegerField(
        default=0, editable=False, help_text="Grows with every change to the programme (papers.versions)."
    )

    objects = ConferenceQuerySet.as_manager()

    class Meta:
        ordering = [models.F("start_date").desc(nulls_last=True), "name"]
        constraints = [
            models.UniqueConstraint(fields=["venue_id"], condition=~Q(venue_id=""), name="unique_conference_venue_id"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="conference_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        save_keeping_version(self, "programme_version", super().save, args, kwargs)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Session(models.Model):
    """A slot of the programme: a poster or oral session, or a non-paper event (social, workshop, …)."""

    class Kind(models.TextChoices):
        ORAL = "oral", "Oral"
        POSTER = "poster", "Poster"
        WORKSHOP = "workshop", "Workshop"
        TUTORIAL = "tutorial", "Tutorial"
        INVITED_TALK = "invited_talk", "Invited talk"
        SOCIAL = "social", "Social"
        MENTORING = "mentoring", "Mentoring"
        OTHER = "other", "Other"

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="sessions")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    title = models.CharField(max_length=300)
    # A session has a day; it has times when the programme gives them ("day-only" otherwise).
    day = models.DateField(null=True, blank=True, help_text="Filled from the start time when there is one.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    room = models.CharField(max_length=200, blank=True)
    # A lab's own event (a lab dinner, a meet-up) is seen by that lab only; the programme has no lab.
    lab = models.ForeignKey(
        "Lab",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sessions",
        help_text="Empty: the programme.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = [models.F("day").asc(nulls_last=True), models.F("starts_at").asc(nulls_last=True), "title"]
        constraints = [
            # The programme's sessions are unique by title and day (the schedule importer's key); labs'
            # own events are not (two labs may both hold a "Dinner").
            models.UniqueConstraint(
                fields=["conference", "title", "day"], condition=Q(lab__isnull=True), name="unique_session_per_day"
            ),
            # NULLs are distinct in a unique index: a session without a day needs its own.
            models.UniqueConstraint(
                fields=["conference", "title"],
                condition=Q(day__isnull=True, lab__isnull=True),
                name="unique_undated_session",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="session_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["conference", "day", "starts_at"], name="session_schedule_idx")]

    def __str__(self) -> str:
        # Sessions of the same name recur on several days: say which.
        return f"{self.title} · {self.day:%a %-d %b}" if self.day else self.title

    def save(self, *args, **kwargs) -> None:
        if self.starts_at is not None:
            self.day = timezone.localtime(self.starts_at, self.conference.tzinfo).date()
        super().save(*args, **kwargs)


class PaperQuerySet(models.QuerySet):
    def for_conference(self, conference: Conference) -> PaperQuerySet:
        return self.filter(conference=conference)

    # Set by with_lab_signals: whose signals, in which lab.
    _signals_user: User | None = None
    _signals_lab: Lab | None = None

    def _clone(self) -> PaperQuerySet:
        clone = super()._clone()
        clone._signals_user = self._signals_user
        clone._signals_lab = self._signals_lab
        return clone

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._signals_user is not None:
            papers = [paper for paper in self._result_cache if isinstance(paper, Paper)]
            statuses: dict[int, list[LabStatus]] = {paper.pk: [] for paper in papers}
            if papers:
                rows = (
                    ReadingStatus.objects.in_lab(self._signals_lab)
                    .filter(paper__in=statuses)
                    .order_by("user__username")
                    .values_list("paper_id", "user_id", "user__username", "state", "starred", "seen_on", "updated_at")
                )
                for row in rows:
                    statuses[row[0]].append(LabStatus(*row))
            for paper in papers:
                paper.lab_statuses = statuses[paper.pk]
                paper.signals = LabSignals.of(paper, self._signals_user)

    def with_lab_signals(self, *, lab: Lab, user: User) -> PaperQuerySet:
        """
        Each paper as this lab member sees it: `paper.signals` (a LabSignals) holds my star and state,
        the lab's stars and reads, and the notes visible to me; `paper.lab_statuses` the members' statuses
        (LabStatus tuples, by username). Two queries for any number of papers and members: no query per paper.
        """
        papers = self.prefetch_related(
            models.Prefetch(
                "notes",
                queryset=Note.objects.visible_to(user=user, lab=lab)
                .with_author_standing(lab)
                .select_related("author", "lab"),
                to_attr="visible_notes",
            ),
        )
        papers._signals_user = user
        papers._signals_lab = lab
        return papers

    def with_lab_star_count(self, lab: Lab) -> PaperQuerySet:
        stars = (
            ReadingStatus.objects.in_lab(lab)
            .filter(paper=models.OuterRef("pk"), starred=True)
            .order_by()
            .values("paper")
            .annotate(count=models.Count("pk"))
            .values("count")
        )
        return self.annotate(lab_star_count=Coalesce(models.Subquery(stars), 0))

    def with_first_slot(self) -> PaperQuerySet:
        """first_slot: when the paper is first presented (None when unscheduled)."""
        first = (
            Presentation.objects.filter(paper=models.OuterRef("pk"))
            .annotate(slot=Coalesce("starts_at", "session__starts_at"))
            .filter(slot__isnull=False)
            .order_by("slot")
            .values("slot")[:1]
        )
        return self.annotate(first_slot=models.Subquery(first))

    def without_search_data(self) -> PaperQuerySet:
        """Without the columns only search reads (a few kilobytes a paper that no page shows)."""
        return self.defer("search_text", "keyword_index", "search_vector")

    def for_rows(self) -> PaperQuerySet:
        """Without the columns a row of a list never shows (the abstract and the search data)."""
        return self.without_search_data().defer("abstract", "tldr")

    def with_presentations(self) -> PaperQuerySet:
        return self.prefetch_related(
            models.Prefetch(
                "presentations",
                queryset=Presentation.objects.select_related("session").order_by("session__day", "session__starts_at"),
            )
        )


class Paper(models.Model):
    class Tier(models.TextChoices):
        ORAL = "oral", "Oral"
        SPOTLIGHT = "spotlight", "Spotlight"
        POSTER = "poster", "Poster"
        UNKNOWN = "", "Unknown"

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="papers")
    forum_id = models.CharField(
        max_length=64,
        help_text="OpenReview forum id, e.g. 2dnO3LLiJ1.",
        validators=[RegexValidator(rf"^{FORUM_ID.pattern}$", "A forum id has only letters, digits, - and _.")],
    )
    number = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500, help_text="May hold LaTeX such as $\\mathcal{B}$.")
    authors = models.JSONField(default=list, blank=True, help_text="Author names, in order.")
    abstract = models.TextField(blank=True)
    keywords = models.JSONField(default=list, blank=True)
    primary_area = models.CharField(max_length=200, blank=True)
    tldr = models.TextField("TL;DR", blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, blank=True, default=Tier.UNKNOWN)
    venue = models.CharField(max_length=200, blank=True, help_text="As OpenReview states it, e.g. ICLR 2024 oral.")
    pdf_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Search data, kept by papers.search whenever a paper is written: the lowercased text every word of
    # a query must be in (the SQLite search), "|keyword|keyword|" for the exact keyword filter, and on
    # PostgreSQL the weighted full-text vector behind a GIN index (migration 0002).
    search_text = models.TextField(blank=True, editable=False)
    keyword_index = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "forum_id"], name="unique_paper_forum_per_conference"),
            models.CheckConstraint(condition=Q(forum_id__regex=rf"^{FORUM_ID.pattern}$"), name="paper_forum_id_valid"),
        ]
        indexes = [
            models.Index(fields=["conference", "tier"], name="paper_conference_tier_idx"),
            models.Index(fields=["conference", "title"], name="paper_conference_title_idx"),
            # The list's "area" filter offers the conference's distinct areas: an index-only scan.
            models.Index(fields=["conference", "primary_area"], name="paper_conference_area_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        search.fill_search_fields(self)
        # One transaction: the programme's version bump (a signal of the save) shows with the search data.
        with transaction.atomic():
            super().save(*args, **kwargs)
            search.update_search_vectors(Paper.objects.filter(pk=self.pk))

    @property
    def forum_url(self) -> str:
        return f"{OPENREVIEW}/forum?id={self.forum_id}"

    @property
    def authors_short(self) -> str:
        if len(self.authors) <= 3:
            return ", ".join(self.authors)
        return f"{', '.join(self.authors[:3])} et al."

    def get_absolute_url_for(self, lab: Lab) -> str:
        return reverse("paper_detail", args=[lab.slug, self.conference.slug, self.forum_id])


class Presentation(models.Model):
    """A paper in a session. An oral paper usually has two: its talk and its poster."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="presentations")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="presentations")
    poster_position = models.CharField(max_length=50, blank=True, help_text="Poster board, e.g. #2504.")
    # An oral's own slot inside its session, when the programme gives one.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=100, blank=True, help_text="The event id on the conference site.")

    class Meta:
        ordering = ["session__day", "session__starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "session"], name="unique_presentation_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.paper} @ {self.session}"

    @property
    def starts(self):
        """When this paper is on: its own slot (an oral's talk) or else its session's."""
        return self.starts_at or self.session.starts_at

    @property
    def ends(self):
        return self.ends_at if self.starts_at else self.session.ends_at

    def clean(self) -> None:
        if self.paper_id and self.session_id and self.paper.conference_id != self.session.conference_id:
            raise ValidationError("The paper and the session belong to different conferences.")


class Lab(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    is_personal = models.BooleanField(default=False, help_text="A user's own lab, made at sign-up.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="labs")
    created_at = models.DateTimeField(auto_now_add=True)
    activity_version = models.PositiveBigIntegerField(
        default=0, editable=False, help_text="Grows with every change to what the lab's pages show (papers.versions)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        save_keeping_version(self, "activity_version", super().save, args, kwargs)

    def get_absolute_url(self) -> str:
        return reverse("lab_detail", args=[self.slug])


class MembershipQuerySet(models.QuerySet):
    def of_user(self, user) -> MembershipQuerySet:
        """A user's labs, their personal lab first."""
        return self.filter(user=user).select_related("lab").order_by("-lab__is_personal", "lab__name")

    def owners_first(self) -> MembershipQuerySet:
        owner_first = models.Case(models.When(role=Membership.Role.OWNER, then=0), default=1)
        return self.select_related("user").order_by(owner_first, "user__username")


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "user"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.lab} ({self.role})"


def new_invite_token() -> str:
    return secrets.token_urlsafe(32)


def default_invite_expiry():
    return timezone.now() + timedelta(days=14)


class InviteQuerySet(models.QuerySet):
    def usable(self) -> InviteQuerySet:
        """Invites that still let someone in: not revoked, not expired, not used up."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).filter(
            Q(max_uses__isnull=True) | Q(uses__lt=models.F("max_uses"))
        )


class Invite(models.Model):
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True, default=new_invite_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_invite_expiry)
    revoked_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    uses = models.PositiveIntegerField(default=0)

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invite to {self.lab}"


class CalendarFeed(models.Model):
    """A member's private calendar feed (/ics/<token>.ics) of a lab's agenda: revocable, regenerable."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="calendar_feeds")
    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="calendar_feeds")
    token = models.CharField(max_length=64, unique=True, default=new_invite_token, editable=False)
    query = models.CharField(max_length=500, blank=True, help_text="The schedule's filters, e.g. mine=1.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lab", "conference"], name="one_feed_per_member_and_conference")
        ]

    def __str__(self) -> str:
        return f"{self.user}'s {self.conference} calendar ({self.lab})"


class ReadingStatusQuerySet(models.QuerySet):
    def triaged(self) -> ReadingStatusQuerySet:
        """Statuses that carry a triage decision (a state): "seen". No row, or no state, is not seen."""
        return self.exclude(state=ReadingStatus.State.UNSEEN)

    def in_lab(self, lab: Lab) -> ReadingStatusQuerySet:
        """The statuses of the lab's current members."""
        return self.filter(user__memberships__lab=lab)


class ReadingStatus(models.Model):
    """One user's triage of one paper. No row means the paper is not yet seen."""

    class State(models.TextChoices):
        UNSEEN = "", "Not triaged"
        SKIPPED = "skipped", "Skipped"
        SHORTLISTED = "shortlisted", "Shortlisted"
        READING = "reading", "Reading"
        READ = "read", "Read"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_statuses")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="reading_statuses")
    state = models.CharField(max_length=20, choices=State.choices, blank=True, default=State.UNSEEN)
    starred = models.BooleanField(default=False, help_text="⭐️ I want to read this.")
    # The conference day I saw it (at its poster, in a talk): the trip report's day for a paper the
    # programme does not schedule. Optional.
    seen_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReadingStatusQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "reading statuses"
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="unique_reading_status"),
            models.CheckConstraint(
                condition=Q(state__in=["", "skipped", "shortlisted", "reading", "read"]),
                name="reading_status_state_valid",
            ),
        ]
        indexes = [
            # The lab's signals on a paper: who starred it, who read it.
            models.Index(fields=["paper", "starred"], name="status_paper_starred_idx"),
            models.Index(fields=["user", "state"], name="status_user_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.paper}: {self.get_state_display()}{' ⭐️' if self.starred else ''}"


class Assignment(models.Model):
    """The lab's split of a conference's papers: who of the lab triages this paper. One member a paper."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="assignments")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "paper"], name="one_assignee_per_lab_and_paper")]
        indexes = [models.Index(fields=["lab", "user"], name="assignment_lab_user_idx")]

    def __str__(self) -> str:
        return f"{self.paper} → {self.user} ({self.lab})"


class NoteQuerySet(models.QuerySet):
    def visible_to(self, *, user: User, lab: Lab) -> NoteQuerySet:
        """What a member sees in a lab: the lab's shared notes and their own (private ones included)."""
        return self.filter(Q(lab=lab) | Q(author=user))

    def with_author_standing(self, lab: Lab) -> NoteQuerySet:
        """
        author_in_lab on each note: whether its author is a member of the lab now (a note's author who left,
        or was removed, is shown as a former member; Note.is_by_former_member reads it).
        """
        return self.annotate(
            author_in_lab=models.Exists(Membership.objects.filter(lab=lab, user=models.OuterRef("author")))
        )

    def undoable(self, *, author: User) -> NoteQuerySet:
        """The author's deleted notes that can still be restored (Note.all_objects.undoable(author=...))."""
        cutoff = timezone.now() - timedelta(seconds=settings.NOTE_UNDO_WINDOW)
        return self.filter(author=author, deleted_at__gt=cutoff)


class LiveNoteManager(models.Manager.from_queryset(NoteQuerySet)):
    """
    Note.objects: the notes that exist as far as anyone can tell. A deleted note waits out its undo window
    (settings.NOTE_UNDO_WINDOW) in the table, but no page, count, filter, dashboard or export sees it:
    they all start from here (and so do paper.notes and lab.notes). Note.all_objects sees them too.
    """

    def get_queryset(self) -> NoteQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


def keep_shared_notes(collector, field, sub_objs, using) -> None:
    """
    Note.author's on_delete. When an account is deleted, the notes it shared with a lab stay the lab's,
    written by "a former member" (author emptied); its private notes, which nobody else could ever see,
    go with it.
    """
    models.CASCADE(collector, field, sub_objs.filter(lab__isnull=True), using)
    models.SET_NULL(collector, field, sub_objs.filter(lab__isnull=False), using)


class Note(models.Model):
    class Kind(models.TextChoices):
        SUMMARY = "summary", "One-liner"
        NOTE = "note", "Note"
        TODO = "todo", "To do"
        QUESTION = "question", "Question"
        FOLLOW_UP = "follow_up", "Follow-up reading"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=keep_shared_notes,
        null=True,
        related_name="notes",
        help_text="Empty: written by a former member whose account was deleted (shared notes only).",
    )
    lab = models.ForeignKey(
        Lab,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notes",
        help_text="The lab that sees this note. Empty: private to its author.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTE)
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False, help_text="The body rendered and sanitised.")
    done = models.BooleanField(default=False, help_text="For to-dos.")
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every edit, to detect conflicts.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by delete_note: the note is gone from every page but its author can undo the deletion until
    # NOTE_UNDO_WINDOW has passed; then it is purged for good (purge_deleted_notes).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LiveNoteManager()
    all_objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "author"], condition=Q(kind="summary"), name="one_summary_per_author_and_paper"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["summary", "note", "todo", "question", "follow_up"]),
                name="note_kind_valid",
            ),
            # Only a shared note outlives its author's account (keep_shared_notes); a private one never.
            models.CheckConstraint(
                condition=Q(author__isnull=False) | Q(lab__isnull=False), name="note_without_author_is_shared"
            ),
        ]
        indexes = [
            models.Index(fields=["paper", "lab"], name="note_paper_lab_idx"),
            models.Index(fields=["author", "paper"], name="note_author_paper_idx"),
            # The purge finds the few deleted notes without reading the live ones.
            models.Index(fields=["deleted_at"], condition=Q(deleted_at__isnull=False), name="note_deleted_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author or 'a former member'} on {self.paper}"

    def save(self, *args, **kwargs) -> None:
        # However a note is written (the services, the admin, a script), what is shown matches its text.
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    @property
    def body_inline_html(self) -> str:
        """The first line of the body, for one-line places (a list row)."""
        return render_inline_markdown(self.body.splitlines()[0] if self.body else "")

    @property
    def is_private(self) -> bool:
        return self.lab_id is None

    @property
    def author_username(self) -> str | None:
        """The author's username; None once their account is deleted."""
        return self.author.username if self.author_id is not None else None

    @property
    def is_by_former_member(self) -> bool:
        """
        Written by someone no longer in the lab: their account deleted, or (with
        NoteQuerySet.with_author_standing) they left or were removed. Without that annotation, only the former.
        """
        return self.author_id is None or not getattr(self, "author_in_lab", True)


class LabStatus(NamedTuple):
    """A lab member's status on a paper, as with_lab_signals reads it: plain values, no model instances
    (a page of 50 papers in a lab of 20 holds some 400 of them)."""

    paper_id: int
    user_id: int
    username: str
    state: str
    starred: bool
    seen_on: date | None
    updated_at: datetime


@dataclass
class LabSignals:
    """One paper as a lab member sees it, from PaperQuerySet.with_lab_signals (no queries of its own)."""

    my_state: str
    my_starred: bool
    starred_by: list[str]  # usernames
    read_by: list[str]
    notes: list[Note]
    my_summary: Note | None

    @classmethod
    def of(cls, paper: Paper, user: User) -> LabSignals:
        mine = next((status for status in paper.lab_statuses if status.user_id == user.pk), None)
        notes = paper.visible_notes
        return cls(
            my_state=mine.state if mine else ReadingStatus.State.UNSEEN,
            my_starred=bool(mine and mine.starred),
            starred_by=[status.username for status in paper.lab_statuses if status.starred],
            read_by=[status.username for status in paper.lab_statuses if status.state == ReadingStatus.State.READ],
            notes=notes,
            my_summary=next(
                (note for note in notes if note.author_id == user.pk and note.kind == Note.Kind.SUMMARY), None
            ),
        )

    # The one-click triage buttons, in the order a reader moves through them.
    buttons = (("skipped", "Skip"), ("shortlisted", "Shortlist"), ("reading", "Reading"), ("read", "Read"))

    @property
    def state_buttons(self) -> list[tuple[str, str, bool]]:
        """(state, label, whether it is my state) for each button."""
        return [(value, label, value == self.my_state) for value, label in self.buttons]

    @property
    def starred_by_names(self) -> str:
        return ", ".join(self.starred_by)

    @property
    def read_by_names(self) -> str:
        return ", ".join(self.read_by)


class Nomination(models.Model):
    """A member proposes a paper for the lab's reading group."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="nominations")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="nominations")
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "paper"], name="one_nomination_per_lab_and_paper")]

    def __str__(self) -> str:
        return f"{self.paper} for {self.lab}'s reading group"


class Vote(models.Model):
    """One member's vote for reading a paper together; taken back by deleting it."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "paper", "user"], name="one_vote_per_member_and_paper")]
        indexes = [models.Index(fields=["lab", "paper"], name="vote_lab_paper_idx")]

    def __str__(self) -> str:
        return f"{self.user} votes for {self.paper}"


class Meeting(models.Model):
    """A reading-group meeting of a lab: when, where, which papers and who presents them."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    place = models.CharField(max_length=300, blank=True, help_text="A room or a video-call link.")
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="Times are shown in it, e.g. Europe/Vienna.",
    )
    agenda = models.TextField(blank=True, help_text="Markdown.")
    papers = models.ManyToManyField(Paper, through="MeetingPaper", related_name="meetings")
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="meetings_attended")
    held_at = models.DateTimeField(null=True, blank=True, help_text="When it was marked as held.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["lab", "starts_at"], name="meeting_lab_starts_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="meeting_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lab} reading group, {timezone.localtime(self.starts_at, self.tzinfo):%Y-%m-%d %H:%M}"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class MeetingPaper(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="meeting_papers")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="meeting_papers")
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="presentations_given"
    )
    discussion_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="discussions_led"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "paper"], name="one_paper_once_per_meeting")]

    def __str__(self) -> str:
        return f"{self.paper} at {self.meeting}"


class PaperNeighbor(models.Model):
    """
    A precomputed "more like this": `neighbor` is among the papers most similar to `paper` (same
    conference), with a similarity `score` (higher is closer). Written by `manage.py build_similar`;
    pages only read it, so no web worker computes similarities or loads a model.
    """

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="neighbors")
    neighbor = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="neighbor_of")
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField(help_text="1 = the most similar.")

    class Meta:
        ordering = ["paper", "rank"]
        constraints = [models.UniqueConstraint(fields=["paper", "neighbor"], name="one_neighbor_row_per_pair")]
        indexes = [models.Index(fields=["neighbor", "paper"], name="neighbor_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.neighbor} is like {self.paper} ({self.score:.2f})"
