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

from django.db import transaction
from django.utils import timezone

from papers.importers.base import (
    ImportFailed,
    Progress,
    decode_text,
    has_invalid_text,
    parse_records,
    record_label,
    type_name,
)
from papers.models import OPENREVIEW, Conference, Paper

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
VENUE_ID = re.compile(r"^(?P<venue>[A-Za-z][A-Za-z0-9-]*)(?:\.[A-Za-z.]+)?/(?P<year>\d{4})(?:/|$)")


@dataclass
class OpenReviewSummary:
    conference: Conference
    conference_created: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown_tier: int = 0
    tiers: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        text = (
            f"{self.conference.name} ({self.conference.slug}): {self.total:,} papers: "
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
    return f"{venue.lower()}-{year}", f"{venue} {year}"


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
    venue_id = _single_venue_id(papers, required=conference_slug is None)

    with transaction.atomic():
        conference, created = _get_or_create_conference(venue_id, conference_slug, conference_name)
        summary = OpenReviewSummary(conference=conference, conference_created=created)
        _upsert_papers(conference, papers, summary, progress)
    return summary


def _value(content: dict, key: str) -> Any:
    """v2 wraps every field as {"value": …}; v1 has the bare value."""
    raw = content.get(key)
    if isinstance(raw, dict) and "value" in raw:
        return raw["value"]
    return raw


def _max_length(name: str) -> int:
    return Paper._meta.get_field(name).max_length


def _text(label: str, content: dict, key: str, *, name: str | None = None, required: bool = False) -> str:
    value = _value(content, key)
    shown = name or key
    if value is None:
        if required:
            raise ImportFailed(f"{label}: has no {shown}.")
        return ""
    if not isinstance(value, str):
        raise ImportFailed(f"{label}: {shown} must be a string, not {type_name(value)}.")
    value = value.strip()
    if required and not value:
        raise ImportFailed(f"{label}: {shown} is empty.")
    return value


def _string_list(label: str, content: dict, key: str) -> list[str]:
    value = _value(content, key)
    if value is None:
        return []
    if isinstance(value, str):  # some exports join keywords with commas
        value = value.split(",")
    if not isinstance(value, list):
        raise ImportFailed(f"{label}: {key} must be a list of strings, not {type_name(value)}.")
    items = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str):
            raise ImportFailed(f"{label}: {key} item {position} must be a string, not {type_name(item)}.")
        if item.strip():
            items.append(item.strip())
    return items


def _paper_fields(index: int, note: Any) -> dict[str, Any]:
    label = record_label(index, note)
    if not isinstance(note, dict):
        raise ImportFailed(f"{label}: is {type_name(note)}, not an OpenReview note.")
    if has_invalid_text(note):
        raise ImportFailed(f"{label}: holds text that is not valid UTF-8.")
    forum_id = note.get("forum") or note.get("id")
    if forum_id is None:
        raise ImportFailed(f"{label}: has no id (neither 'id' nor 'forum').")
    if not isinstance(forum_id, str) or not forum_id.strip():
        raise ImportFailed(f"{label}: id must be a non-empty string, not {type_name(forum_id)}.")
    forum_id = forum_id.strip()
    if len(forum_id) > _max_length("forum_id") or not re.fullmatch(r"[A-Za-z0-9_\-]+", forum_id):
        raise ImportFailed(f"{label}: {forum_id[:80]!r} is not an OpenReview forum id.")
    content = note.get("content")
    if not isinstance(content, dict):
        raise ImportFailed(f"{label}: has no content object (found {type_name(content)}).")

    title = _text(label, content, "title", required=True)
    venue = _text(label, content, "venue")
    tldr = (
        _text(label, content, "TLDR", name="TL;DR") or _text(label, content, "TL;DR") or _text(label, content, "tldr")
    )
    pdf = _text(label, content, "pdf")
    if pdf.startswith("/"):
        pdf = OPENREVIEW + pdf
    elif pdf and not pdf.startswith(("http://", "https://")):
        raise ImportFailed(f"{label}: pdf {pdf[:80]!r} is neither a path nor a web address.")
    number = note.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 0):
        raise ImportFailed(f"{label}: number must be a whole number, not {type_name(number)}.")
    fields = {
        "forum_id": forum_id,
        "number": number,
        "title": title,
        "authors": _string_list(label, content, "authors"),
        "abstract": _text(label, content, "abstract"),
        "keywords": _string_list(label, content, "keywords"),
        "primary_area": _text(label, content, "primary_area", name="primary area").replace("_", " "),
        "tldr": tldr,
        "tier": tier_from_venue(venue),
        "venue": venue,
        "pdf_url": pdf,
        "_venue_id": _text(label, content, "venueid"),
        "_label": label,
    }
    for name in ("title", "primary_area", "venue", "pdf_url"):
        limit = _max_length(name)
        if len(fields[name]) > limit:
            raise ImportFailed(f"{label}: {name.replace('_', ' ')} is longer than {limit:,} characters.")
    return fields


def _reject_duplicates(papers: list[dict]) -> None:
    seen: dict[str, str] = {}
    for paper in papers:
        first = seen.setdefault(paper["forum_id"], paper["_label"])
        if first != paper["_label"]:
            raise ImportFailed(f"{paper['_label']}: the same paper as {first.split(' (')[0]}.")


def _single_venue_id(papers: list[dict], *, required: bool) -> str:
    venue_ids = {paper["_venue_id"] for paper in papers if paper["_venue_id"]}
    if len(venue_ids) > 1:
        first = papers[0]["_venue_id"]
        odd = next(paper for paper in papers if paper["_venue_id"] and paper["_venue_id"] != first)
        raise ImportFailed(
            f"{odd['_label']}: venue id {odd['_venue_id']!r} differs from {first!r}; import one conference per file."
        )
    venue_id = venue_ids.pop() if venue_ids else ""
    if required:
        if not venue_id:
            raise ImportFailed(f"{papers[0]['_label']}: has no venueid; pass --conference SLUG to name the conference.")
        if conference_from_venue_id(venue_id) is None:
            raise ImportFailed(
                f"{papers[0]['_label']}: cannot tell the conference from venue id {venue_id[:80]!r}; "
                "pass --conference SLUG."
            )
    return venue_id


def _get_or_create_conference(venue_id: str, slug: str | None, name: str | None) -> tuple[Conference, bool]:
    derived = conference_from_venue_id(venue_id) if venue_id else None
    if slug is None:
        slug = derived[0]
    conference = Conference.objects.filter(slug=slug).first()
    if conference is None and venue_id:
        conference = Conference.objects.filter(venue_id=venue_id).first()
        if conference is not None and conference.slug != slug:
            raise ImportFailed(f"Venue id {venue_id!r} belongs to the conference {conference.slug!r}, not {slug!r}.")
    if conference is not None:
        changed = []
        if name and conference.name != name:
            conference.name = name
            changed.append("name")
        if venue_id and not conference.venue_id:
            conference.venue_id = venue_id
            changed.append("venue_id")
        if changed:
            conference.save(update_fields=changed)
        return conference, False
    if not name:
        name = derived[1] if derived else slug
    conference = Conference(slug=slug, name=name, venue_id=venue_id)
    conference.full_clean()
    conference.save()
    return conference, True


def _upsert_papers(conference: Conference, papers: list[dict], summary: OpenReviewSummary, progress) -> None:
    existing = {paper.forum_id: paper for paper in Paper.objects.filter(conference=conference)}
    to_create: list[Paper] = []
    to_update: list[Paper] = []
    total = len(papers)
    for done, fields in enumerate(papers, start=1):
        values = {name: fields[name] for name in PAPER_FIELDS}
        summary.tiers[values["tier"] or "unknown"] = summary.tiers.get(values["tier"] or "unknown", 0) + 1
        if not values["tier"]:
            summary.unknown_tier += 1
        paper = existing.get(fields["forum_id"])
        if paper is None:
            to_create.append(Paper(conference=conference, forum_id=fields["forum_id"], **values))
        elif any(getattr(paper, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(paper, name, value)
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
        Paper.objects.bulk_update(to_update, [*PAPER_FIELDS, "updated_at"], batch_size=BATCH)
    summary.created = len(to_create)
    summary.updated = len(to_update)
