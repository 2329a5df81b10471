"""
Server time of the triage pages on the real ICLR 2024 programme: the median of repeated requests
through Django's full stack (middleware, views, templates, database), in process, production
settings. Run by bench/page_times.sh, which prepares a database for each engine.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iclrnotes.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from papers import services  # noqa: E402
from papers.importers.openreview import import_openreview  # noqa: E402
from papers.models import Lab, Membership, Note, Paper, ReadingStatus, User  # noqa: E402

DATA = Path(os.environ.get("DATA", ROOT.parent / "shared" / "data")) / "iclr2024_openreview_notes.json"
REPEATS = int(os.environ.get("REPEATS", "30"))
MEMBERS = 5


def prepare() -> tuple[Lab, User]:
    summary = import_openreview(DATA.read_bytes())
    conference = summary.conference
    lab = Lab.objects.filter(slug="bench-lab").first()
    if lab is None:
        owner = User.objects.create_user(username="bench0", password="bench-password-0")
        lab = services.create_lab(name="Bench Lab", owner=owner)
        Lab.objects.filter(pk=lab.pk).update(slug="bench-lab")
        lab.refresh_from_db()
        rng = random.Random(0)
        papers = list(Paper.objects.filter(conference=conference).values_list("pk", flat=True))
        for number in range(1, MEMBERS):
            user = User.objects.create_user(username=f"bench{number}", password=f"bench-password-{number}")
            Membership.objects.create(lab=lab, user=user)
        for user in User.objects.filter(memberships__lab=lab):
            triaged = rng.sample(papers, 400)
            ReadingStatus.objects.bulk_create(
                ReadingStatus(
                    user=user,
                    paper_id=pk,
                    state=rng.choice(["skipped", "skipped", "shortlisted", "reading", "read"]),
                    starred=rng.random() < 0.15,
                )
                for pk in triaged
            )
            Note.objects.bulk_create(
                Note(paper_id=pk, author=user, lab=lab, kind="note", body="A thought.", body_html="<p>A thought.</p>")
                for pk in triaged[:60]
            )
    return lab, User.objects.get(username="bench0")


def median_ms(client: Client, url: str) -> tuple[float, int]:
    client.get(url)  # warm up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), len(response.content)


def main() -> None:
    lab, user = prepare()
    client = Client()
    client.force_login(user)
    papers = reverse("paper_list", args=[lab.slug, "iclr-2024"])
    inbox = reverse("triage", args=[lab.slug, "iclr-2024"])
    pages = [
        ("list, default", papers),
        ("list, search 'diffusion models'", papers + "?q=diffusion+models"),
        ("list, most lab stars", papers + "?sort=stars"),
        ("inbox card, default (my unseen)", inbox),
        ("inbox card, search 'diffusion models'", inbox + "?q=diffusion+models"),
    ]
    engine = connection.vendor
    print(f"{engine}: {Paper.objects.count():,} papers, lab of {MEMBERS}, median of {REPEATS} requests")
    for label, url in pages:
        ms, size = median_ms(client, url)
        print(f"  {engine:<10} {label:<40} {ms:7.1f} ms  {size / 1024:6.1f} KB")


if __name__ == "__main__":
    main()
