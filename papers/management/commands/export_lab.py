from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from papers.exporters.backup import export_lab_json
from papers.models import Lab, User


class Command(BaseCommand):
    help = (
        "Write a lab's full backup (members, statuses, shared notes, events, split, and the papers and "
        "conferences they refer to) as JSON, to a file or standard output. Private notes are left out "
        "unless --include-private-of names their author. Read it back with import_lab."
    )

    def add_arguments(self, parser):
        parser.add_argument("lab", metavar="LAB_SLUG", help="The lab to export, e.g. vision.")
        parser.add_argument("--output", "-o", metavar="PATH", help="Write here instead of standard output.")
        parser.add_argument(
            "--include-private-of", metavar="USERNAME", help="Include this user's private notes (theirs only)."
        )

    def handle(self, *args, lab: str, output: str | None, include_private_of: str | None, **options):
        lab_obj = Lab.objects.filter(slug=lab).first()
        if lab_obj is None:
            raise CommandError(f"No lab with slug {lab!r}.")
        private_of = None
        if include_private_of is not None:
            private_of = User.objects.filter(username=include_private_of).first()
            if private_of is None:
                raise CommandError(f"No user {include_private_of!r}.")
        text = export_lab_json(lab_obj, private_of=private_of)
        if output is None:
            self.stdout.write(text)
            return
        try:
            Path(output).write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror or error}.") from None
        self.stdout.write(f"{lab_obj.name} ({lab_obj.slug}) exported to {output} ({len(text.encode()):,} bytes).")
