from django.core.management.base import BaseCommand

from papers import services


class Command(BaseCommand):
    help = (
        "Remove for good the notes deleted longer ago than NOTE_UNDO_WINDOW (seconds, 30 minutes by default), "
        "whose undo has run out. Every deletion also does this on the way; run it from cron to keep the table "
        "clean on a quiet instance."
    )

    def handle(self, *args, **options):
        purged = services.purge_deleted_notes()
        self.stdout.write(
            f"{purged} deleted note{'' if purged == 1 else 's'} purged (undo window: {services.undo_window_words()})."
        )
