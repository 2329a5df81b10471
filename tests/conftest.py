"""Personas and data shared by the suite: a lab with an owner and a member, and an outsider."""

from pathlib import Path

import pytest

from papers.models import Membership
from tests.factories import ConferenceFactory, LabFactory, MembershipFactory, PaperFactory, UserFactory

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ICLR_2024 = SHARED_DATA / "iclr2024_openreview_notes.json"
NEURIPS_2023 = SHARED_DATA / "neurips2023_openreview_notes.json"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def empty_cache():
    """
    Each test starts with an empty cache: a rolled-back test leaves its ids (and version counters) to the
    next, whose lab 1 at version 0 is another lab than the one cached (papers.versions).
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lab(db):
    return LabFactory(name="Vision Lab", slug="vision")


@pytest.fixture
def owner(lab):
    user = UserFactory(username="olivia")
    MembershipFactory(lab=lab, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def member(lab):
    user = UserFactory(username="max")
    MembershipFactory(lab=lab, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(username="otto")


@pytest.fixture
def conference(db):
    return ConferenceFactory(slug="iclr-2024", name="ICLR 2024", venue_id="ICLR.cc/2024/Conference")


@pytest.fixture
def paper(conference):
    return PaperFactory(
        conference=conference,
        forum_id="2dnO3LLiJ1",
        title="Vision Transformers Need Registers",
        authors=["Timothée Darcet", "Maxime Oquab", "Julien Mairal", "Piotr Bojanowski"],
        abstract="Transformers have recently emerged as a powerful tool for learning visual representations.",
        tier="oral",
        pdf_url="https://openreview.net/pdf?id=2dnO3LLiJ1",
    )


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The real hasher is slow by design; tests only need passwords that check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
