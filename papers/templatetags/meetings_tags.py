"""{% upcoming_meetings %}: the next reading-group meetings, for any page (one query of its own)."""

from django import template

from papers.meetings import upcoming_meetings as upcoming_for

register = template.Library()


@register.inclusion_tag("papers/meetings/upcoming_list.html", takes_context=True)
def upcoming_meetings(context, lab=None) -> dict:
    """
    The upcoming meetings of `lab` (a page of the lab: the viewer is a member, the view checked), or
    without a lab of all the viewer's labs (home), each with its papers and presenters.
    """
    user = context["request"].user
    return {"upcoming": upcoming_for(user=user, lab=lab), "lab": lab, "all_labs": lab is None}
