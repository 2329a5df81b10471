from django.core.management.base import BaseCommand, CommandError

from papers.importers.base import ImportFailed, read_source
from papers.importers.csv import import_csv
from papers.models import Conference


class Command(BaseCommand):
    help = (
        "Import papers (and their sessions when the file has a sessions column) from a CSV of the shape the "
        "CSV export writes: forum_id and title required; authors, tier, keywords, primary_area, abstract, "
        "pdf_url, sessions optional. Every row is checked first; then all are written, or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH_OR_URL", help="The CSV file, an http(s) URL, or - for stdin.")
        parser.add_argument("--conference", required=True, help="Slug of the conference to import into.")

    def handle(self, *args, source: str, conference: str, **options):
        target = Conference.objects.filter(slug=conference).first()
        if target is None:
            raise CommandError(f"No conference {conference!r}: create it first (admin, or import_openreview).")
        try:
            summary = import_csv(read_source(source), conference=target)
        except ImportFailed as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        self.stdout.write(str(summary))
