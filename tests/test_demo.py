import pytest
from django.core.management import CommandError, call_command

from papers.models import Conference, Lab, Membership, Note, Paper, Presentation, ReadingStatus, Session, User
from tests.conftest import ICLR_2024


def counts():
    return [
        m.objects.count()
        for m in (Conference, Paper, Session, Presentation, Lab, Membership, User, ReadingStatus, Note)
    ]


@pytest.mark.django_db
def test_demo_makes_a_lab_of_three_and_a_scheduled_conference_and_rerunning_is_harmless(capsys):
    call_command("demo", force=True)
    output = capsys.readouterr().out

    conference = Conference.objects.get()
    assert (conference.slug, conference.name, conference.city, conference.timezone) == (
        "demo-2026",
        "Demo Conference 2026",
        "Lisbon",
        "Europe/Lisbon",
    )
    assert Paper.objects.count() == 300
    assert {s.day.isoformat() for s in Session.objects.all()} == {
        "2026-05-05",
        "2026-05-06",
        "2026-05-07",
        "2026-05-08",
    }
    assert set(Session.objects.values_list("kind", flat=True)) == {
        "poster",
        "oral",
        "social",
        "mentoring",
        "invited_talk",
        "workshop",
    }
    # Every paper has a poster; orals have their talk too.
    assert Presentation.objects.filter(session__kind="poster").count() == 300
    assert Presentation.objects.filter(session__kind="oral").count() == Paper.objects.filter(tier="oral").count()
    lab = Lab.objects.get(slug="demo-lab")
    assert sorted(lab.memberships.values_list("user__username", "role")) == [
        ("ada", "owner"),
        ("alan", "member"),
        ("grace", "member"),
    ]
    assert User.objects.get(username="ada").check_password("iclrnotes-demo")
    assert User.objects.get(username="admin").is_superuser
    assert "password for all: iclrnotes-demo" in output
    for name in ("ada", "grace", "alan"):
        assert f"  {name}" in output

    # Grace and Alan have begun: the lab's signals show from the first look.
    assert ReadingStatus.objects.filter(user__username="grace").count() == 60
    assert ReadingStatus.objects.filter(user__username="alan").count() == 35
    assert Note.objects.filter(kind="summary", lab=lab).exists()

    before = counts()
    call_command("demo", force=True)
    assert counts() == before
    assert "300 papers: 0 created, 0 updated, 300 unchanged" in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_with_data_imports_the_real_iclr_2024():
    call_command("demo", data=str(ICLR_2024), force=True)
    assert Conference.objects.get().slug == "iclr-2024"
    assert Paper.objects.count() == 2260
    assert Lab.objects.get(slug="demo-lab").memberships.count() == 3


@pytest.mark.django_db
def test_demo_with_a_missing_file_says_so():
    with pytest.raises(CommandError, match=r"Cannot read /no/such/file\.json: No such file or directory\."):
        call_command("demo", data="/no/such/file.json", force=True)
    assert counts()[0:2] == [0, 0]


@pytest.mark.django_db
def test_demo_refuses_to_run_without_debug():
    with pytest.raises(CommandError, match=r"it runs only with DEBUG=1"):
        call_command("demo")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_demo_leaves_a_real_account_of_the_same_name_alone():
    real = User.objects.create_user(username="admin", email="root@lab.example", password="a-real-secret-123")
    with pytest.raises(CommandError, match=r"A user 'admin' exists who is not a demo user"):
        call_command("demo", force=True)
    real.refresh_from_db()
    assert real.check_password("a-real-secret-123")
    assert not real.is_superuser
    assert counts()[:2] == [0, 0]
