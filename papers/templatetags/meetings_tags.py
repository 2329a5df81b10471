"""{% upcoming_meetings %}: the next reading-group meetings, for any page (one query of its own, or none)."""

from django import template
from django.core.cache import cache
from django.utils import timezone

from papers.meetings import upcoming_meetings as upcoming_for

register = template.Library()

# A lab's upcoming meetings are cached by the lab's version (papers.versions: a meeting, its papers and people
# are the lab's activity) and the minute: what is "upcoming" also moves with the clock. A paper retitled in an
# import (another conference's version) shows here within the minute.
UPCOMING_TIMEOUT = 120


@register.inclusion_tag("papers/meetings/upcoming_list.html", takes_context=True)
def upcoming_meetings(context, lab=None) -> dict:
    """
    The upcoming meetings of `lab` (a page of the lab: the viewer is a member, the view checked), or
    without a lab of all the viewer's labs (home), each with its papers and presenters.
    """
    user = context["request"].user
    if lab is None:
        upcoming = upcoming_for(user=user)
    else:
        minute = timezone.now().replace(second=0, microsecond=0)
        key = f"upcoming-meetings:lab{lab.pk}.{lab.activity_version}:{minute:%Y%m%d%H%M}"
        upcoming = cache.get(key)
        if upcoming is None:
            upcoming = upcoming_for(user=user, lab=lab, now=timezone.now())
            cache.set(key, upcoming, UPCOMING_TIMEOUT)
    return {"upcoming": upcoming, "lab": lab, "all_labs": lab is None}
