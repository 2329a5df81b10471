"""
Import accepted papers from OpenReview notes.

Accepts what OpenReview gives out: API v2 notes (content fields wrapped as {"value": …}), API v1
notes (bare values), as a JSON array, JSON Lines, or a saved API response {"notes": [...]}.
Every record is checked before anything is written; the write is one transaction. A re-import
updates papers in place by forum id and never touches a user's stars, statuses or notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from papers import search, versions
from papers.importers.base import (
    MAX_DEPTH,
    ImportFailed,
    Progress,
    clean_text,
    decode_text,
    excerpt,
    has_invalid_text,
    parse_records,
    plural,
    record_label,
    too_deep,
    type_name,
)
from papers.models import FORUM_ID, OPENREVIEW, RESERVED_CONFERENCE_SLUGS, Conference, Paper

PAPER_FIELDS = (
    "number",
    "title",
    "authors",
    "abstract",
    "keywords",
    "primary_area",
    "tldr",
    "tier",
    "venue",
    "pdf_url",
)
SEARCH_FIELDS = ("search_text", "keyword_index")
BATCH = 500

# Tier words, most specific first. ICLR 2023 called its orals "notable top 5%" and its spotlights
# "notable top 25%"; other years say oral / spotlight / poster in any capitalisation.
TIER_PATTERNS = (
    (re.compile(r"top[\s-]*5\s*%"), Paper.Tier.ORAL),
    (re.compile(r"top[\s-]*25\s*%"), Paper.Tier.SPOTLIGHT),
    (re.compile(r"\boral\b"), Paper.Tier.ORAL),
    (re.compile(r"\bspotlight\b"), Paper.Tier.SPOTLIGHT),
    (re.compile(r"\bposter\b"), Paper.Tier.POSTER),
)
# Only a main conference's id names a conference on its own; workshops and tracks need --conference.
VENUE_ID = re.compile(r"^(?P<venue>[A-Za-z][A-Za-z0-9-]*)\.[A-Za-z.]+/(?P<year>\d{4})/Conference$")
MAX_NUMBER = 2**31 - 1  # PostgreSQL's integer
VENUE_ID_MAX = Conference._meta.get_field("venue_id").max_length


@dataclass
class OpenReviewSummary:
    conference: Conference
    conference_created: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    tiers: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def unknown_tier(self) -> int:
        return self.tiers.get("unknown", 0)

    def __str__(self) -> str:
        text = (
            f"{self.conference.name} ({self.conference.slug}): {self.total:,} paper{plural(self.total)}: "
            f"{self.created:,} created, {self.updated:,} updated, {self.unchanged:,} unchanged"
        )
        tiers = ", ".join(f"{self.tiers.get(tier, 0):,} {tier}" for tier in ("oral", "spotlight", "poster"))
        text += f"; {tiers}"
        if self.unknown_tier:
            text += f", {self.unknown_tier:,} with an unknown tier"
        if self.conference_created:
            text += "; conference created"
        return text + "."


def tier_from_venue(venue: str) -> str:
    lowered = venue.lower()
    for pattern, tier in TIER_PATTERNS:
        if pattern.search(lowered):
            return tier
    return Paper.Tier.UNKNOWN


def conference_from_venue_id(venue_id: str) -> tuple[str, str] | None:
    """'ICLR.cc/2024/Conference' → ('iclr-2024', 'ICLR 2024')."""
    match = VENUE_ID.match(venue_id)
    if match is None:
        return None
    venue, year = match["venue"], match["year"]
    slug = f"{venue.lower()}-{year}"
    if len(slug) > Conference._meta.get_field("slug").max_length:
        return None  # no conference is called that; --conference names it
    return slug, f"{venue} {year}"


def import_openreview(
    data: bytes,
    *,
    conference_slug: str | None = None,
    conference_name: str | None = None,
    progress: Progress | None = None,
) -> OpenReviewSummary:
    """Import the notes in data (the file's bytes). Raises ImportFailed, having written nothing."""
    text = decode_text(data)
    notes = parse_records(text, list_keys=("notes",))
    if not notes:
        raise ImportFailed("The file holds no notes.")
    papers = [_paper_fields(index, note) for index, note in enumerate(notes)]
    _reject_duplicates(papers)
    venue_id = _single_venue_id(papers)

    try:
        with transaction.atomic():
            conference, created = _conference(venue_id, conference_slug, conference_name)
            summary = OpenReviewSummary(conference=conference, conference_created=created)
            _upsert_papers(conference, papers, summary, progress)
            versions.programme_changed(conferences=[conference.pk])
    except IntegrityError:
        # Everything was checked first, so a clash here is another import of the same papers that
        # committed in the meantime; this one rolled back whole.
        raise ImportFailed("Another import of this conference ran at the same time; run this one again.") from None
    return summary


def _value(content: dict, key: str) -> Any:
    """v2 wraps every field as {"value": …}; v1 has the bare value."""
    raw = content.get(key)
    if isinstance(raw, dict) and "value" in raw:
        return raw["value"]
    return raw


def _max_length(name: str) -> int:
    return Paper._meta.get_field(name).max_length


def _text(label: str, content: dict, key: str, *, name: str | None = None, model_field: str | None = None) -> str:
    max_length = _max_length(model_field) if model_field else None
    return clean_text(label, _value(content, key), name or key, max_length=max_length)


def _string_list(label: str, content: dict, key: str) -> list[str]:
    value = _value(content, key)
    if value is None:
        return []
    if isinstance(value, str):  # some exports join keywords with commas
        value = value.split(",")
    if not isinstance(value, list):
        raise ImportFailed(f"{label}: {key} must be a list of strings, not {type_name(value)}.")
    items = [clean_text(label, item, f"{key} item {position}") for position, item in enumerate(value, start=1)]
    return [item for item in items if item]


def _paper_fields(index: int, note: Any) -> dict[str, Any]:
    label = record_label(index, note)
    if not isinstance(note, dict):
        raise ImportFailed(f"{label}: is {type_name(note)}, not an OpenReview note.")
    if too_deep(note):
        raise ImportFailed(f"{label}: nested more than {MAX_DEPTH} levels deep; a note is not.")
    if has_invalid_text(note):
        raise ImportFailed(f"{label}: holds text that is not valid UTF-8.")
    forum_id = note.get("forum") or note.get("id")
    if forum_id is None:
        raise ImportFailed(f"{label}: has no id (neither 'id' nor 'forum').")
    if not isinstance(forum_id, str) or not forum_id.strip():
        raise ImportFailed(f"{label}: id must be a non-empty string, not {type_name(forum_id)}.")
    forum_id = forum_id.strip()
    if len(forum_id) > _max_length("forum_id") or not FORUM_ID.fullmatch(forum_id):
        raise ImportFailed(f"{label}: {forum_id[:80]!r} is not an OpenReview forum id.")
    content = note.get("content")
    if not isinstance(content, dict):
        raise ImportFailed(f"{label}: has no content object (found {type_name(content)}).")

    title = clean_text(label, _value(content, "title"), "title", max_length=_max_length("title"), required=True)
    venue = _text(label, content, "venue", model_field="venue")
    tldr = next(filter(None, (_text(label, content, key, name="TL;DR") for key in ("TLDR", "TL;DR", "tldr"))), "")
    pdf = _text(label, content, "pdf")
    if pdf.startswith("/"):
        pdf = OPENREVIEW + pdf
    elif pdf and not pdf.startswith(("http://", "https://")):
        raise ImportFailed(f"{label}: pdf {pdf[:80]!r} is neither a path nor a web address.")
    if len(pdf) > _max_length("pdf_url"):
        raise ImportFailed(f"{label}: pdf is longer than {_max_length('pdf_url'):,} characters.")
    number = note.get("number")
    if number is not None and (
        not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= MAX_NUMBER
    ):
        raise ImportFailed(f"{label}: number must be a whole number from 0 to {MAX_NUMBER:,}, not {excerpt(number)}.")
    return {
        "forum_id": forum_id,
        "number": number,
        "title": title,
        "authors": _string_list(label, content, "authors"),
        "abstract": _text(label, content, "abstract"),
        "keywords": _string_list(label, content, "keywords"),
        "primary_area": _text(label, content, "primary_area", name="primary area", model_field="primary_area").replace(
            "_", " "
        ),
        "tldr": tldr,
        "tier": tier_from_venue(venue),
        "venue": venue,
        "pdf_url": pdf,
        "_venue_id": clean_text(label, _value(content, "venueid"), "venue id", max_length=VENUE_ID_MAX),
        "_label": label,
    }


def _reject_duplicates(papers: list[dict]) -> None:
    seen: dict[str, str] = {}
    for paper in papers:
        first = seen.setdefault(paper["forum_id"], paper["_label"])
        if first != paper["_label"]:
            raise ImportFailed(f"{paper['_label']}: the same paper as {first.split(' (')[0]}.")


def _single_venue_id(papers: list[dict]) -> str:
    """The one venue id the notes share ("" when none has one); a file holds one conference."""
    first = next((paper for paper in papers if paper["_venue_id"]), None)
    if first is None:
        return ""
    odd = next((paper for paper in papers if paper["_venue_id"] not in ("", first["_venue_id"])), None)
    if odd is not None:
        raise ImportFailed(
            f"{odd['_label']}: venue id {odd['_venue_id'][:80]!r} differs from {first['_venue_id'][:80]!r} "
            f"({first['_label'].split(' (')[0]}); import one conference per file."
        )
    return first["_venue_id"]


def _conference(venue_id: str, slug: str | None, name: str | None) -> tuple[Conference, bool]:
    """
    The conference the notes go to. Named by slug (--conference) or found by the notes' venue id;
    a conference that already has another venue id never takes these notes.
    """
    if name is not None:
        name = name.strip()
        if not name or len(name) > Conference._meta.get_field("name").max_length:
            raise ImportFailed(f"The conference name must be 1 to 200 characters, not {len(name)}.")
    owner = Conference.objects.filter(venue_id=venue_id).first() if venue_id else None
    if slug is None:
        if not venue_id:
            raise ImportFailed("The notes have no venueid; pass --conference SLUG to name the conference.")
        if owner is not None:
            conference = owner
        else:
            derived = conference_from_venue_id(venue_id)
            if derived is None:
                raise ImportFailed(
                    f"Cannot tell the conference from venue id {venue_id[:80]!r} (not <Venue>.cc/<year>/Conference); "
                    "pass --conference SLUG."
                )
            slug = derived[0]
            conference = Conference.objects.filter(slug=slug).first()
            name = name or derived[1]
    else:
        _check_slug(slug)
        conference = Conference.objects.filter(slug=slug).first()
        if owner is not None and owner != conference:
            raise ImportFailed(f"Venue id {venue_id!r} belongs to the conference {owner.slug!r}, not {slug!r}.")
    if conference is None:
        conference = Conference.objects.create(slug=slug, name=name or slug, venue_id=venue_id)
        return conference, True
    if venue_id and conference.venue_id and conference.venue_id != venue_id:
        raise ImportFailed(
            f"These notes are from {venue_id!r}, but the conference {conference.slug!r} is {conference.venue_id!r}."
        )
    changed = {}
    if venue_id and not conference.venue_id:
        changed["venue_id"] = venue_id
    if name and slug is not None and conference.name != name:
        changed["name"] = name
    if changed:
        for field_name, value in changed.items():
            setattr(conference, field_name, value)
        conference.save(update_fields=list(changed))
    return conference, False


def _check_slug(slug: str) -> None:
    limit = Conference._meta.get_field("slug").max_length
    try:
        validate_slug(slug)
    except ValidationError:
        raise ImportFailed(f"{slug[:80]!r} is not a slug: use letters, digits, - and _ (e.g. iclr-2024).") from None
    if len(slug) > limit:
        raise ImportFailed(f"The conference slug is longer than {limit} characters.")
    if slug in RESERVED_CONFERENCE_SLUGS:
        raise ImportFailed(f"{slug!r} is a page of every lab; choose another conference slug.")


def _upsert_papers(conference: Conference, papers: list[dict], summary: OpenReviewSummary, progress) -> None:
    existing = {paper.forum_id: paper for paper in Paper.objects.filter(conference=conference)}
    to_create: list[Paper] = []
    to_update: list[Paper] = []
    total = len(papers)
    for done, fields in enumerate(papers, start=1):
        values = {name: fields[name] for name in PAPER_FIELDS}
        summary.tiers[values["tier"] or "unknown"] = summary.tiers.get(values["tier"] or "unknown", 0) + 1
        paper = existing.get(fields["forum_id"])
        if paper is None:
            paper = Paper(conference=conference, forum_id=fields["forum_id"], **values)
            search.fill_search_fields(paper)
            to_create.append(paper)
        elif any(getattr(paper, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(paper, name, value)
            search.fill_search_fields(paper)
            to_update.append(paper)
        else:
            summary.unchanged += 1
        if progress and (done % BATCH == 0 or done == total):
            progress(done, total)
    Paper.objects.bulk_create(to_create, batch_size=BATCH)
    # bulk_update skips auto_now; the time of the change matters to "recently updated".
    if to_update:
        now = timezone.now()
        for paper in to_update:
            paper.updated_at = now
        Paper.objects.bulk_update(to_update, [*PAPER_FIELDS, *SEARCH_FIELDS, "updated_at"], batch_size=BATCH)
    if to_create or to_update:
        changed = Q(search_vector__isnull=True) | Q(pk__in=[paper.pk for paper in to_update])
        search.update_search_vectors(Paper.objects.filter(conference=conference).filter(changed))
    summary.created = len(to_create)
    summary.updated = len(to_update)
