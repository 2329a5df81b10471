"""
Server time of the lab dashboard on the real ICLR 2024 programme with a 20-member lab's realistic
activity: the median of repeated requests through Django's full stack, in process. Uses the database
in DATABASE_URL (made and migrated beforehand); imports ICLR 2024 and makes the lab when missing.

    DATABASE_URL=postgres://… SECRET_KEY=… ALLOWED_HOSTS=testserver SECURE_SSL_REDIRECT=0 \\
        .venv/bin/python bench/dashboard_time.py
"""

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iclrnotes.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from papers.importers.openreview import import_openreview  # noqa: E402
from papers.models import Assignment, Conference, Lab, Membership, Note, Paper, ReadingStatus, User  # noqa: E402
from papers.rendering import render_markdown  # noqa: E402

DATA = Path(os.environ.get("DATA", ROOT.parent / "shared" / "data")) / "iclr2024_openreview_notes.json"
REPEATS = int(os.environ.get("REPEATS", "30"))
MEMBERS = 20
STATUSES_PER_MEMBER = 1_000  # 20,000 in all
STAR_SHARE = 0.3  # about 6,000 stars
NOTES_PER_MEMBER = 150  # 3,000 in all, one in seven private
# Another lab triaging the same conference, so that the dashboard has to tell the labs apart.
OTHER_MEMBERS, OTHER_STATUSES = 5, 500
STATES = ["skipped"] * 11 + ["shortlisted"] * 5 + ["reading"] * 2 + ["read"] * 1 + [""] * 1
KINDS = ["note"] * 4 + ["summary"] * 3 + ["todo", "question", "follow_up"]


def conference() -> Conference:
    found = Conference.objects.filter(slug="iclr-2024").first()
    if found is not None and found.papers.exists():
        return found
    return import_openreview(DATA.read_bytes()).conference


def make_lab(slug: str, members: int, statuses: int, notes: int, papers: list[int], rng: random.Random) -> Lab:
    lab = Lab.objects.create(name=slug.replace("-", " ").title(), slug=slug)
    users = User.objects.bulk_create(User(username=f"{slug}-{n}", password="!") for n in range(members))
    Membership.objects.bulk_create(
        Membership(lab=lab, user=user, role=Membership.Role.OWNER if n == 0 else Membership.Role.MEMBER)
        for n, user in enumerate(users)
    )
    # The lab split the programme evenly; each member triages most of their slice, and browses beyond it.
    shuffled = rng.sample(papers, len(papers))
    slices = {user.pk: shuffled[n :: len(users)] for n, user in enumerate(users)}
    Assignment.objects.bulk_create(
        Assignment(lab=lab, user_id=user_id, paper_id=paper) for user_id, slice_ in slices.items() for paper in slice_
    )
    now = timezone.now()
    for user in users:
        own = rng.sample(slices[user.pk], int(len(slices[user.pk]) * rng.uniform(0.3, 1.0)))
        mine = set(own)
        others = [paper for paper in rng.sample(papers, statuses) if paper not in mine]
        triaged = (own + others)[:statuses]
        ReadingStatus.objects.bulk_create(
            ReadingStatus(user=user, paper_id=paper, state=rng.choice(STATES), starred=rng.random() < STAR_SHARE)
            for paper in triaged
        )
        # Notes on distinct papers (one one-liner per author and paper), bodies rendered as Note.save would.
        Note.objects.bulk_create(
            Note(
                paper_id=paper,
                author=user,
                lab=None if rng.random() < 1 / 7 else lab,
                kind=kind,
                body=body,
                body_html=render_markdown(body),
            )
            for paper, kind, body in (
                (paper, KINDS[n % len(KINDS)], f"Thought {n} on this paper: *worth* a look.")
                for n, paper in enumerate(rng.sample(triaged, notes))
            )
        )
        # Activity spread over the last month rather than all at one instant.
        ReadingStatus.objects.bulk_update(
            [
                ReadingStatus(pk=pk, updated_at=now - timedelta(minutes=rng.randrange(43_200)))
                for pk in ReadingStatus.objects.filter(user=user).values_list("pk", flat=True)
            ],
            ["updated_at"],
            batch_size=1_000,
        )
    return lab


def prepare() -> tuple[Lab, User]:
    papers = list(Paper.objects.filter(conference=conference()).values_list("pk", flat=True))
    lab = Lab.objects.filter(slug="dash-lab").first()
    if lab is None:
        rng = random.Random(0)
        with transaction.atomic():
            lab = make_lab("dash-lab", MEMBERS, STATUSES_PER_MEMBER, NOTES_PER_MEMBER, papers, rng)
            make_lab("dash-other", OTHER_MEMBERS, OTHER_STATUSES, 50, papers, rng)
        if connection.vendor == "postgresql":
            # The planner's statistics, as autovacuum would soon gather them after such a bulk load.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return lab, User.objects.get(username="dash-lab-0")


def median_ms(client: Client, url: str, **headers) -> tuple[float, int, int]:
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        response = client.get(url, headers=headers)  # warm up, and count the queries
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(response.content), len(queries)


def main() -> None:
    lab, user = prepare()
    client = Client()
    client.force_login(user)
    url = reverse("dashboard", args=[lab.slug, "iclr-2024"])
    statuses = ReadingStatus.objects.filter(user__memberships__lab=lab)
    papers = Paper.objects.filter(conference__slug="iclr-2024").count()
    notes = Note.objects.filter(author__memberships__lab=lab).count()
    print(
        f"{connection.vendor}: {papers:,} papers; lab of {lab.memberships.count()}: {statuses.count():,} statuses, "
        f"{statuses.filter(starred=True).count():,} stars, {notes:,} notes; median of {REPEATS} requests"
    )
    for label, target, headers in (
        ("dashboard", url, {}),
        ("dashboard, activity page 3 (htmx)", f"{url}?activity_page=3", {"HX-Request": "true"}),
    ):
        ms, size, queries = median_ms(client, target, **headers)
        print(f"  {label:<36} {ms:7.1f} ms  {size / 1024:6.1f} KB  {queries} queries")


if __name__ == "__main__":
    main()
