import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers.importers.base import ImportFailed
from papers.importers.openreview import import_openreview


class Command(BaseCommand):
    help = (
        "Import accepted papers from OpenReview notes (API v2 or v1; a JSON array, JSON Lines, or a saved "
        '{"notes": [...]} response). Re-importing updates papers in place and keeps every star and note.'
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The notes file, or - for standard input.")
        parser.add_argument("--conference", help="Conference slug (default: from the notes' venueid, e.g. iclr-2024).")
        parser.add_argument("--name", help="Conference name when it is created or renamed (default: e.g. ICLR 2024).")

    def handle(self, *args, path: str, conference: str | None, name: str | None, verbosity: int, **options):
        data = self._read(path)
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if verbosity >= 1 and total >= 1000:
                self.stderr.write(f"  {done:,} of {total:,} notes checked…")

        try:
            summary = import_openreview(data, conference_slug=conference, conference_name=name, progress=progress)
        except ImportFailed as error:
            raise CommandError(f"{path}: {error} Nothing was imported.") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{summary} ({elapsed:.1f} s)")

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
