from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from papers import services, versions
from papers.access import get_conference_for_member, get_paper_for_member
from papers.filters import PaperFilter, active_filters
from papers.forms import StarForm, StateForm, first_error
from papers.models import Lab, Paper

PAPERS_PER_PAGE = 50


@require_GET
@login_required
@vary_on_headers("HX-Request")
def paper_list(request: HttpRequest, lab_slug: str, conference_slug: str) -> HttpResponse:
    """
    The conference's papers as this member sees them, filtered and sorted by the query string. Its two parts
    are cached (papers.versions): the filters by the programme's version, the results by the lab's and the
    programme's, for this member and query (and CSRF secret: the rows' forms carry a token for it).
    """
    lab, conference = get_conference_for_member(request, lab_slug, conference_slug)
    papers = Paper.objects.for_conference(conference)
    # Built only when a part is not cached (building it costs a millisecond).
    filters = SimpleLazyObject(
        lambda: PaperFilter(request.GET or None, queryset=papers, lab=lab, user=request.user, conference=conference)
    )
    context = {"lab": lab, "conference": conference, "filters": filters, "next_url": request.get_full_path()}
    results = versions.cached(
        "paper-list-results",
        lambda: _render_results(request, context),
        lab=lab,
        conference=conference,
        vary=(*versions.for_member(request), context["next_url"]),
    )
    # htmx asks for the results alone (filters, paging); a history restore (back button) needs the page.
    if request.htmx and not request.htmx.history_restore_request:
        return HttpResponse(results)
    filters_html = versions.cached(
        "paper-list-filters",
        lambda: render_to_string(
            "papers/paper_list_filters.html", {**context, "active_filters": active_filters(filters)}, request
        ),
        lab=None,
        conference=conference,
        vary=(lab.slug, context["next_url"]),
    )
    return render(request, "papers/paper_list.html", {**context, "filters_html": filters_html, "results_html": results})


def _render_results(request: HttpRequest, context: dict) -> str:
    filters, conference = context["filters"], context["conference"]
    papers = filters.qs.for_rows().with_presentations().with_lab_signals(lab=context["lab"], user=request.user)
    page = Paginator(papers, PAPERS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    chips = active_filters(filters)
    return render_to_string(
        "papers/paper_list_results.html",
        {
            **context,
            "active_filters": chips,
            "page": page,
            # Unfiltered, the page's count is the total: one COUNT instead of two.
            "total": page.paginator.count if not chips else conference.papers.count(),
            "query_string": _without_page(request),
        },
        request,
    )


def _without_page(request: HttpRequest) -> str:
    """The list's state (filters, sort) as a query string, for paging links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where a no-JavaScript form goes back to: the page it was on, if that page is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _triage_changed(request: HttpRequest, lab: Lab, paper: Paper) -> HttpResponse:
    """After a star or state change: the controls (and the lab's signals) again, or back to the page."""
    if not request.htmx:
        return redirect(safe_next(request, paper.get_absolute_url_for(lab)))
    conference = paper.conference
    paper = Paper.objects.for_rows().with_lab_signals(lab=lab, user=request.user).get(pk=paper.pk)
    paper.conference = conference
    context = {"lab": lab, "conference": conference, "paper": paper, "next_url": request.POST.get("next", "")}
    return render(request, "includes/triage_controls.html", {**context, "oob": True})


@require_POST
@login_required
def paper_star(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> HttpResponse:
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    form = StarForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(first_error(form))
    services.set_star(user=request.user, paper=paper, starred=form.cleaned_data["starred"])
    return _triage_changed(request, lab, paper)


@require_POST
@login_required
def paper_state(request: HttpRequest, lab_slug: str, conference_slug: str, forum_id: str) -> HttpResponse:
    lab, paper = get_paper_for_member(request, lab_slug, conference_slug, forum_id)
    form = StateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(first_error(form))
    services.set_state(user=request.user, paper=paper, state=form.cleaned_data["state"])
    return _triage_changed(request, lab, paper)
