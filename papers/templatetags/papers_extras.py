import functools

from django import template
from django.urls import get_script_prefix, reverse

from papers.latex import latex_to_text

register = template.Library()


@register.filter
def plain_title(title: str) -> str:
    """A title's LaTeX as Unicode text (still escaped by the template)."""
    return latex_to_text(title)


@functools.lru_cache(maxsize=1024)
def _papers_prefix(script_prefix: str, lab_slug: str, conference_slug: str) -> str:
    return reverse("paper_list", args=[lab_slug, conference_slug])


@register.simple_tag(takes_context=True)
def paper_url(context: template.Context, paper, action: str = "") -> str:
    """
    The URL of the paper's page in this lab (`lab` and `conference` of the context), or of one of its
    actions ("star", "state"): the paper list's URL reversed once per lab and conference, then the forum id.
    A list of 50 rows needs some 250 such URLs; `{% url %}` would reverse each one.
    """
    prefix = _papers_prefix(get_script_prefix(), context["lab"].slug, context["conference"].slug)
    return f"{prefix}{paper.forum_id}/{action}/" if action else f"{prefix}{paper.forum_id}/"
