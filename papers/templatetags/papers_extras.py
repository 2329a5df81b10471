import functools

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from papers.latex import latex_to_text
from papers.models import LabSignals

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


# The triage controls and the lab's signals are drawn on every row of the list (50 a page), on the paper
# page, the schedule and the inbox, and after every star. As templates they cost about 0.3 ms a row
# (measured: 14 ms for the 50 rows of a page, a third of the list's time); built here with format_html they
# cost a tenth of that. The markup is the same everywhere they appear.

_STAR_ON = mark_safe(
    '<input type="hidden" name="starred" value="0">'
    '<button type="submit" class="star-toggle is-on" aria-pressed="true" title="Starred: click to unstar">'
    '<span aria-hidden="true">★</span><span class="visually-hidden">Star</span></button>'
)
_STAR_OFF = mark_safe(
    '<input type="hidden" name="starred" value="1">'
    '<button type="submit" class="star-toggle" aria-pressed="false" title="Star: I want to read this">'
    '<span aria-hidden="true">★</span><span class="visually-hidden">Star</span></button>'
)


def _state_buttons(my_state: str) -> SafeString:
    # Every part is a constant of LabSignals.buttons.
    return mark_safe(
        "".join(
            f'<button type="submit" name="state" value="" class="state-toggle state-toggle--{value} is-on" '
            f'aria-pressed="true">{label}</button>'
            if value == my_state
            else f'<button type="submit" name="state" value="{value}" class="state-toggle state-toggle--{value}" '
            f'aria-pressed="false">{label}</button>'
            for value, label in LabSignals.buttons
        )
    )


_STATE_BUTTONS = {state: _state_buttons(state) for state in ["", *(value for value, _ in LabSignals.buttons)]}


@register.simple_tag(takes_context=True)
def triage_controls(context: template.Context, paper) -> SafeString:
    """My star and my triage state for one paper: two plain forms that htmx submits in place."""
    signals = paper.signals
    token = context.get("csrf_token")
    hidden = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}"><input type="hidden" name="next" value="{}">',
        token if token and token != "NOTPROVIDED" else "",
        context.get("next_url", ""),
    )
    star_url = paper_url(context, paper, "star")
    state_url = paper_url(context, paper, "state")
    target = f"#triage-{paper.pk}"
    return format_html(
        '<div class="triage-controls" id="triage-{}">'
        '<form method="post" action="{}" hx-post="{}" hx-target="{}" hx-swap="outerHTML">{}{}</form>'
        '<form method="post" class="states" action="{}" hx-post="{}" hx-target="{}" hx-swap="outerHTML">{}{}</form>'
        "</div>",
        paper.pk,
        star_url,
        star_url,
        target,
        hidden,
        _STAR_ON if signals.my_starred else _STAR_OFF,
        state_url,
        state_url,
        target,
        hidden,
        _STATE_BUTTONS.get(signals.my_state, _STATE_BUTTONS[""]),
    )


@register.simple_tag
def lab_signals(paper, oob: bool = False) -> SafeString:
    """What the lab did with one paper: stars (who, on hover or tap), reads, notes."""
    signals = paper.signals
    parts = []
    if signals.starred_by:
        names = signals.starred_by_names
        parts.append(
            format_html(
                '<details class="who"><summary title="Starred by {}">★ {}</summary>'
                '<span class="who__names">Starred by {}</span></details>',
                names,
                len(signals.starred_by),
                names,
            )
        )
    if signals.read_by:
        names = signals.read_by_names
        parts.append(
            format_html(
                '<details class="who who--read"><summary title="Read by {}">✓ {} read</summary>'
                '<span class="who__names">Read by {}</span></details>',
                names,
                len(signals.read_by),
                names,
            )
        )
    if signals.notes:
        count = len(signals.notes)
        parts.append(format_html("<span>{} note{}</span>", count, "" if count == 1 else "s"))
    return format_html(
        '<span class="signals" id="signals-{}"{}>{}</span>',
        paper.pk,
        mark_safe(' hx-swap-oob="true"') if oob else "",
        mark_safe("".join(parts)),  # each part was built by format_html
    )


@register.simple_tag
def matrix_cells(cells) -> SafeString:
    """
    The cells of one row of the dashboard's read/unread matrix: (member, read state, starred) for each member.
    Thirty papers by twenty members are 600 cells; a template loop spends some 30 µs on each.
    """
    star = '<span class="dash-cell__star" title="{} starred it">★<span class="visually-hidden"> starred</span></span>'
    return mark_safe(  # each cell is built by format_html
        "\n".join(
            format_html(
                '<td><span class="dash-cell dash-cell--{}">{}</span>{}</td>',
                cell,
                cell,
                format_html(star, member.username) if starred else "",
            )
            for member, cell, starred in cells
        )
    )
