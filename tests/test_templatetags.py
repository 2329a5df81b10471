"""papers_extras builds some URLs and markup in Python for speed: they must be what the URL map and the
templates would give."""

from django.template import Context, Template
from django.urls import reverse

from tests.factories import ConferenceFactory, LabFactory, PaperFactory


def test_paper_url_is_what_reverse_gives_for_the_page_and_each_action(db):
    lab, conference = LabFactory(slug="vision"), ConferenceFactory(slug="iclr-2024")
    paper = PaperFactory(conference=conference, forum_id="2dnO3LLiJ1")
    template = Template(
        '{% load papers_extras %}{% paper_url paper %}|{% paper_url paper "star" %}|{% paper_url paper "state" %}'
    )

    rendered = template.render(Context({"lab": lab, "conference": conference, "paper": paper}))

    args = [lab.slug, conference.slug, paper.forum_id]
    assert rendered.split("|") == [
        reverse("paper_detail", args=args),
        reverse("paper_star", args=args),
        reverse("paper_state", args=args),
    ]
    assert rendered.split("|")[0] == paper.get_absolute_url_for(lab)
