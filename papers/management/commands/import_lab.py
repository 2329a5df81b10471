from django.core.management.base import BaseCommand, CommandError

from papers.importers.backup import ImportFailed, import_lab
from papers.importers.base import read_source
from papers.models import Lab


class Command(BaseCommand):
    help = (
        "Import a lab backup (made by export_lab or the lab's Download the backup) into an existing lab. "
        "Users are matched by username; those this instance lacks are created inactive with an unusable "
        "password. Conferences and papers missing here are created; statuses keep the newer of the two; notes "
        "already here are not duplicated. Every private note in the file is imported. Re-importing the same "
        "file changes nothing. Everything is checked before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH_OR_URL", help="A backup JSON file, an http(s) URL, or - for stdin.")
        parser.add_argument("--lab", required=True, metavar="LAB_SLUG", help="The lab to import into; it must exist.")
        parser.add_argument(
            "--adopt-existing-users",
            action="store_true",
            help="Match users that exist here but are not members of the lab by username, and make them members. "
            "Without it such a user stops the import (the same name need not be the same person).",
        )

    def handle(self, *args, source: str, lab: str, adopt_existing_users: bool, **options):
        lab_obj = Lab.objects.filter(slug=lab).first()
        if lab_obj is None:
            raise CommandError(f"No lab with slug {lab!r}. Create it first (sign up and make a lab, or the admin).")
        try:
            summary = import_lab(read_source(source), lab=lab_obj, adopt_existing_users=adopt_existing_users)
        except ImportFailed as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        self.stdout.write(str(summary))
