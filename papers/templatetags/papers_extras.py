from django import template

from papers.latex import latex_to_text

register = template.Library()


@register.filter
def plain_title(title: str) -> str:
    """A title's LaTeX as Unicode text (still escaped by the template)."""
    return latex_to_text(title)
