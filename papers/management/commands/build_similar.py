from django.core.management.base import BaseCommand, CommandError

from papers.models import Conference
from papers.similarity import DEFAULT_K, build_neighbors


class Command(BaseCommand):
    help = (
        "Compute each paper's most similar papers of the same conference (TF-IDF blended with LSA over title, "
        "abstract, keywords and area) and store them for the similar-papers panel and the For you / For the lab "
        "orders. Replaces the conference's previous rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--conference", metavar="SLUG", help="Only this conference (default: every conference).")
        parser.add_argument("-k", type=int, default=DEFAULT_K, help=f"Neighbours per paper (default {DEFAULT_K}).")

    def handle(self, *args, conference: str | None, k: int, **options):
        if k < 1:
            raise CommandError("-k must be at least 1.")
        conferences = Conference.objects.all()
        if conference is not None:
            conferences = conferences.filter(slug=conference)
            if not conferences.exists():
                raise CommandError(f"No conference {conference!r}.")
        for each in conferences:
            rows, seconds = build_neighbors(each, k=k)
            self.stdout.write(f"{each}: {rows} similar-paper rows (k={k}) in {seconds:.1f} s")
