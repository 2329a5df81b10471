"""
How good is "For you"? The protocol of issue 7, on a real attendee's shortlist: star half of it, and count
how much of the other half the ranking brings into its top 100.
"""

import json
import random
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from papers.importers.base import ImportFailed, read_source
from papers.models import Conference, Paper, PaperNeighbor, ReadingStatus, User
from papers.recommend import for_you

SPLITS = 20
TOP = 100


class Command(BaseCommand):
    help = (
        "Measure For you on a shortlist file: 20 random splits (random.Random(0), shuffle, first half "
        "rounded down starred as seeds, the rest hidden); print the mean share of hidden papers in the "
        "top 100 of the other papers (recall@100), a random ranking's, and the time to build the neighbours "
        "and to serve the ranking. Builds the neighbours when the conference has none. Writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH_TO_SHORTLIST", help="A shortlist JSON (see load_shortlist).")
        parser.add_argument("--rebuild", action="store_true", help="Rebuild the neighbours first (and time it).")
        parser.add_argument("-k", type=int, help="Neighbours per paper when (re)building.")

    def handle(self, *args, source: str, rebuild: bool, k: int | None, **options):
        try:
            data = json.loads(read_source(source))
            forum_ids = [str(item["forum_id"]) for item in data["shortlist"]]
        except ImportFailed as error:
            raise CommandError(str(error)) from None
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f"{source} is not a shortlist file ({error}).") from None
        conference = Conference.objects.filter(venue_id=data.get("venueid") or "-").first()
        if conference is None:
            raise CommandError(f"No conference with venue id {data.get('venueid')!r}: import its papers first.")
        ids = dict(
            Paper.objects.for_conference(conference).filter(forum_id__in=forum_ids).values_list("forum_id", "pk")
        )
        missing = [forum for forum in forum_ids if forum not in ids]
        if missing:
            raise CommandError(f"{len(missing)} shortlisted papers are not in {conference}: {', '.join(missing[:5])}.")
        papers = Paper.objects.for_conference(conference)

        build = "as stored"
        if rebuild or k is not None or not PaperNeighbor.objects.filter(paper__conference=conference).exists():
            from papers.similarity import DEFAULT_K, build_neighbors

            rows, seconds = build_neighbors(conference, k=k or DEFAULT_K)
            build = f"{rows} rows in {seconds:.1f} s"

        rng = random.Random(0)
        recalls, serve_times = [], []
        for _ in range(SPLITS):
            shuffled = list(forum_ids)
            rng.shuffle(shuffled)
            half = len(shuffled) // 2
            seeds = {ids[forum] for forum in shuffled[:half]}
            hidden = {ids[forum] for forum in shuffled[half:]}
            top, seconds = self._rank(papers, seeds)
            recalls.append(len(hidden & set(top)) / len(hidden))
            serve_times.append(seconds)

        candidates = papers.count() - half
        self.stdout.write(
            f"{conference}: recall@{TOP} {statistics.mean(recalls):.3f} over {SPLITS} splits of {len(forum_ids)} "
            f"(min {min(recalls):.3f}, max {max(recalls):.3f}; random {TOP / candidates:.3f}); "
            f"neighbours {build}; For you served in {statistics.median(serve_times) * 1000:.0f} ms (median)"
        )

    def _rank(self, papers, seeds: set[int]) -> tuple[list[int], float]:
        """The top of For you for a throwaway user who starred `seeds`, and the time of the ranking query."""
        with transaction.atomic():
            user = User.objects.create(username=f"eval-{time.time_ns()}")
            ReadingStatus.objects.bulk_create(ReadingStatus(user=user, paper_id=pk, starred=True) for pk in seeds)
            started = time.perf_counter()
            # The page's query: every paper of the conference ranked, as the list's For you sort does.
            ranking = list(
                for_you(papers.exclude(pk__in=seeds), user=user)
                .order_by("-suggestion", "title", "pk")
                .values_list("pk", flat=True)
            )
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        return ranking[:TOP], seconds
