"""Load an attendee's shortlist file (see ../shared/data/SOURCES.md) into a user's statuses and personal lab."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from papers import services
from papers.importers.base import ImportFailed, read_source
from papers.models import Conference, Paper, Session, User


class Command(BaseCommand):
    help = (
        "Load an attendee's shortlist JSON ({venueid, dates, city, timezone, shortlist: [{forum_id, day, starred}], "
        "events: [{title, day, kind}]}) into a user: each paper shortlisted (starred as the file says) and seen on "
        "its day, and the events as day-only events of the user's personal lab. Import the conference's papers "
        "first. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", metavar="PATH", help="The shortlist JSON file.")
        parser.add_argument("--user", required=True, metavar="USERNAME", help="Whose statuses to set.")

    def handle(self, *args, source: str, user: str, **options):
        account = User.objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user {user!r}.")
        try:
            data = json.loads(read_source(source))
        except ImportFailed as error:
            raise CommandError(str(error)) from None
        except ValueError as error:
            raise CommandError(f"{source} is not JSON: {error}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("shortlist"), list):
            raise CommandError('Expected an object with a "shortlist" list.')
        conference = Conference.objects.filter(venue_id=data.get("venueid") or "-").first()
        if conference is None:
            raise CommandError(f"No conference with venue id {data.get('venueid')!r}: import its papers first.")

        entries = [self._entry(index, item) for index, item in enumerate(data["shortlist"])]
        forum_ids = [forum for forum, _, _ in entries]
        papers = {
            paper.forum_id: paper for paper in Paper.objects.filter(conference=conference, forum_id__in=forum_ids)
        }
        missing = [forum for forum, _, _ in entries if forum not in papers]
        if missing:
            raise CommandError(f"{len(missing)} shortlisted papers are not in {conference}: {', '.join(missing[:5])}.")
        events = [self._event(index, item) for index, item in enumerate(data.get("events") or [])]
        dates = data.get("dates") or {}
        services.load_shortlist(
            user=account,
            conference=conference,
            papers=[(papers[forum], day, starred) for forum, day, starred in entries],
            events=events,
            start_date=self._date("dates.start", dates.get("start")) if dates.get("start") else None,
            end_date=self._date("dates.end", dates.get("end")) if dates.get("end") else None,
            city=str(data.get("city") or "")[:100],
            timezone_name=str(data.get("timezone") or ""),
        )
        starred = sum(1 for _, _, star in entries if star)
        self.stdout.write(
            f"{account.username}: {len(entries)} papers of {conference} shortlisted ({starred} starred), "
            f"{len(events)} events in their personal lab."
        )

    def _date(self, label: str, value) -> dt.date:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise CommandError(f"{label}: {value!r} is not a date (YYYY-MM-DD).") from None

    def _entry(self, index: int, item) -> tuple[str, dt.date, bool]:
        label = f"shortlist entry {index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("forum_id"), str):
            raise CommandError(f"{label}: needs a forum_id.")
        return item["forum_id"], self._date(f"{label} ({item['forum_id']})", item.get("day")), bool(item.get("starred"))

    def _event(self, index: int, item) -> tuple[str, dt.date, str]:
        label = f"event {index + 1}"
        if not isinstance(item, dict) or not str(item.get("title") or "").strip():
            raise CommandError(f"{label}: needs a title.")
        kind = item.get("kind") or Session.Kind.OTHER
        if kind not in Session.Kind.values:
            raise CommandError(f"{label}: kind {kind!r} is not one of {', '.join(Session.Kind.values)}.")
        return str(item["title"]).strip()[:300], self._date(label, item.get("day")), kind
