from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from papers.importers.base import ImportFailed, progress_printer, read_source
from papers.importers.virtualsite import import_schedule
from papers.models import Conference, validate_timezone


class Command(BaseCommand):
    help = (
        "Import a conference's programme (sessions, times, rooms, poster boards) from its virtual-site JSON, "
        'e.g. https://iclr.cc/static/virtual/data/iclr-2024-orals-posters.json ({"count": N, "results": [...]}). '
        "Papers are matched by the OpenReview forum id in paper_url, so import the papers first. "
        "Re-importing updates sessions and presentations in place; a scheduled paper's presentations that the "
        "file no longer lists are removed, sessions are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH_OR_URL", help="A local JSON file or an http(s) URL.")
        parser.add_argument(
            "--conference", required=True, help="Slug of the conference whose papers are scheduled, e.g. iclr-2024."
        )
        parser.add_argument(
            "--timezone",
            metavar="ZONE",
            help="Set the conference's time zone first, e.g. Europe/Vienna; sessions' days are taken in it. "
            "Saved only if the import succeeds.",
        )

    def handle(self, *args, source: str, conference: str, timezone: str | None, verbosity: int, **options):
        try:
            conference_obj = Conference.objects.get(slug=conference)
        except Conference.DoesNotExist:
            raise CommandError(
                f"No conference with slug {conference!r}. "
                "Import its papers first (import_openreview) or create it in the admin."
            ) from None
        if timezone is not None:
            try:
                validate_timezone(timezone)
            except ValidationError:
                raise CommandError(f"Unknown time zone {timezone!r}. Use a name such as Europe/Vienna.") from None

        progress = progress_printer(self._note, "entries", verbosity=verbosity)
        try:
            data = read_source(source)
            summary = import_schedule(data, conference=conference_obj, timezone=timezone, progress=progress)
        except ImportFailed as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        self.stdout.write(str(summary))

    def _note(self, line: str) -> None:
        self.stderr.write(line, style_func=str)
