import time

from django.core.management.base import BaseCommand, CommandError

from papers.importers.base import ImportFailed, progress_printer, read_source
from papers.importers.openreview import import_openreview


class Command(BaseCommand):
    help = (
        "Import accepted papers from OpenReview notes (API v2 or v1; a JSON array, JSON Lines, or a saved "
        '{"notes": [...]} response). Re-importing updates papers in place and keeps every star and note.'
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH_OR_URL", help="The notes file, an http(s) URL, or - for stdin.")
        parser.add_argument("--conference", help="Conference slug (default: from the notes' venueid, e.g. iclr-2024).")
        parser.add_argument("--name", help="Conference name when it is created or renamed (default: e.g. ICLR 2024).")
        parser.add_argument(
            "--no-similar", action="store_true", help="Do not rebuild the similar papers (run build_similar later)."
        )

    def handle(self, *args, source: str, conference: str | None, name: str | None, verbosity: int, **options):
        started = time.perf_counter()

        progress = progress_printer(self._note, "notes", verbosity=verbosity)
        try:
            data = read_source(source)
            summary = import_openreview(data, conference_slug=conference, conference_name=name, progress=progress)
        except ImportFailed as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        self.stdout.write(f"{summary} ({time.perf_counter() - started:.1f} s)")
        if not options.get("no_similar"):
            # Imported lazily: scikit-learn is for this offline step only, never loaded by a web worker.
            from papers.similarity import DEFAULT_K, build_neighbors

            rows, seconds = build_neighbors(summary.conference, k=DEFAULT_K)
            self.stdout.write(f"{summary.conference}: {rows:,} similar-paper rows (k={DEFAULT_K}) in {seconds:.1f} s")

    def _note(self, line: str) -> None:
        self.stderr.write(line, style_func=str)
