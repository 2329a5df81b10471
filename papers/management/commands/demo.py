import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from papers import demo, services
from papers.importers.base import ImportFailed, read_source
from papers.importers.openreview import import_openreview
from papers.importers.virtualsite import import_schedule
from papers.models import Conference, Lab, Membership, Paper, ReadingStatus, User
from papers.similarity import build_neighbors

LAB_SLUG = "demo-lab"
PASSWORD = "iclrnotes-demo"
MEMBERS = [("ada", Membership.Role.OWNER), ("grace", Membership.Role.MEMBER), ("alan", Membership.Role.MEMBER)]
ADMIN = "admin"
DEMO_ONE_LINERS = [
    "Simple trick, big gains on the long-context benchmarks; worth trying on our models.",
    "Nice analysis of **when** the method fails; the appendix has the real story.",
    "Claims look strong but the baselines are weak; check Table 2 before citing.",
    "Could replace our current regulariser: see section 4.",
    "Good related-work section: a reading list in itself.",
]
DEMO_DOMAIN = "demo.invalid"


class Command(BaseCommand):
    help = (
        "Create a demo lab with three members and a conference. With --data, import that OpenReview notes "
        "file (e.g. ../shared/data/iclr2024_openreview_notes.json); without it, generate a small demo "
        "conference with a schedule. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", help="An OpenReview notes file to import instead of the generated conference.")
        parser.add_argument("--papers", type=int, default=300, help="How many papers to generate (default 300).")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even without DEBUG=1 (it makes a superuser with a public password).",
        )

    def handle(self, *args, data: str | None, papers: int, force: bool, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                "The demo makes accounts whose password is public, a superuser among them: it runs only with DEBUG=1 "
                "(or --force on a database that is not in production)."
            )
        if not 1 <= papers <= 20_000:
            raise CommandError("--papers must be from 1 to 20,000.")
        try:
            with transaction.atomic():
                conference, summaries = self._conference(data, papers)
                lab = self._lab()
                self._activity(lab, conference)
        except ImportFailed as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        for summary in summaries:
            self.stdout.write(str(summary))
        rows, seconds = build_neighbors(conference)  # "similar papers" and the suggestions need them
        self.stdout.write(f"{conference}: {rows:,} similar-paper rows in {seconds:.1f} s")
        self.stdout.write(f"Demo lab “{lab.name}”, conference “{conference.name}”.")
        self.stdout.write(f"Log in as any of (password for all: {PASSWORD}):")
        for username, role in MEMBERS:
            self.stdout.write(f"  {username:<6} {role}")
        self.stdout.write(f"  {ADMIN:<6} site admin (/admin/)")

    def _conference(self, data: str | None, papers: int) -> tuple[Conference, list]:
        if data:
            summary = import_openreview(read_source(data))
            return summary.conference, [summary]
        notes, schedule = demo.generate(papers=papers)
        conference, _ = Conference.objects.update_or_create(
            slug=demo.SLUG,
            defaults={
                "name": demo.NAME,
                "venue_id": demo.VENUE_ID,
                "city": demo.CITY,
                "timezone": demo.TIMEZONE,
                "start_date": demo.START,
                "end_date": demo.END,
            },
        )
        papers_summary = import_openreview(demo.notes_bytes(notes), conference_slug=conference.slug)
        schedule_summary = import_schedule(demo.schedule_bytes(schedule), conference=conference)
        return conference, [papers_summary, schedule_summary]

    def _lab(self) -> Lab:
        lab, _ = Lab.objects.get_or_create(slug=LAB_SLUG, defaults={"name": "Demo Lab"})
        for username, role in MEMBERS:
            user = self._user(username)
            Membership.objects.update_or_create(lab=lab, user=user, defaults={"role": role})
        admin = self._user(ADMIN)
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
        return lab

    def _activity(self, lab: Lab, conference: Conference) -> None:
        """Grace and Alan have started triaging, so the lab's signals show (once; a re-run adds nothing)."""
        rng = random.Random(7)
        papers = list(Paper.objects.filter(conference=conference).order_by("pk")[:400])
        for username, count in (("grace", 60), ("alan", 35)):
            user = User.objects.get(username=username)
            if ReadingStatus.objects.filter(user=user, paper__conference=conference).exists():
                continue
            for paper in rng.sample(papers, min(count, len(papers))):
                state = rng.choice(["skipped", "skipped", "shortlisted", "shortlisted", "reading", "read"])
                services.set_state(user=user, paper=paper, state=state)
                if state != "skipped" and rng.random() < 0.4:
                    services.set_star(user=user, paper=paper, starred=True)
                if state in {"reading", "read"} and rng.random() < 0.5:
                    services.add_note(
                        author=user, paper=paper, lab=lab, kind="summary", body=rng.choice(DEMO_ONE_LINERS)
                    )

    def _user(self, username: str) -> User:
        email = f"{username}@{DEMO_DOMAIN}"
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if not created and user.email != email:
            raise CommandError(
                f"A user {username!r} exists who is not a demo user; the demo leaves real accounts alone."
            )
        if created or not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        return user
