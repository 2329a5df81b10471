"""
The database goes away (a restart, a failover, too many connections): every request gets the friendly
503 page with Retry-After, never a 500, and the next request after its return is served as usual.

The outage is simulated on the test connection: every query raises the OperationalError a dead
server gives, and the queries tried are recorded, which shows that rendering the 503 reads nothing.
bench/faults.sh restarts a real PostgreSQL under gunicorn for the same behaviour end to end.
"""

import logging
from contextlib import contextmanager

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, connections
from django.db.utils import InterfaceError, OperationalError, load_backend
from django.test import Client
from django.urls import reverse

from papers.middleware import is_database_unavailable, outage_log
from papers.models import ReadingStatus

MESSAGE = '<p class="outage__message" role="alert">The database is briefly unavailable. Try again in a moment.</p>'
REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fresh_outage_log():
    outage_log.reset()
    yield
    outage_log.reset()


@contextmanager
def database_down(error: Exception | None = None):
    """Every query fails as it would with the server gone; yields the SQL that was tried."""
    tried = []

    def refuse(execute, sql, params, many, context):
        tried.append(sql)
        raise error or OperationalError(REFUSED)

    with connection.execute_wrapper(refuse):
        yield tried


def unreachable_error(engine: str, **settings) -> OperationalError:
    """The real error Django raises when it cannot reach a database of that engine."""
    settings_dict = connections.configure_settings({"default": {"ENGINE": engine, **settings}})["default"]
    wrapper = load_backend(engine).DatabaseWrapper(settings_dict, "unreachable")
    with pytest.raises(OperationalError) as caught:
        wrapper.ensure_connection()
    return caught.value


def dashboard_url(lab, conference):
    return reverse("dashboard", args=[lab.slug, conference.slug])


def star_url(lab, paper):
    return reverse("paper_star", args=[lab.slug, paper.conference.slug, paper.forum_id])


def test_a_page_during_an_outage_is_the_friendly_503_and_reads_nothing(member_client, lab, conference):
    with database_down() as tried:
        response = member_client.get(dashboard_url(lab, conference))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    body = response.content.decode()
    assert "<title>Back in a moment · iclrnotes</title>" in body
    assert "<h1>Back in a moment</h1>" in body
    assert body.count(MESSAGE) == 1
    assert "Traceback" not in body and "OperationalError" not in body
    # The one query tried was the session's; the 503 page itself touched the database not at all.
    assert len(tried) == 1 and '"django_session"' in tried[0]
    # The member stays logged in: the session cookie is neither deleted nor rewritten.
    assert "sessionid" not in response.cookies


def test_the_page_is_served_again_once_the_database_is_back(member_client, lab, conference):
    with database_down():
        assert member_client.get(dashboard_url(lab, conference)).status_code == 503
    response = member_client.get(dashboard_url(lab, conference))
    assert response.status_code == 200
    assert "papers/dashboard.html" in [template.name for template in response.templates]


def test_a_star_during_an_outage_gets_a_message_htmx_does_not_swap_and_saves_nothing(member_client, member, lab, paper):
    with database_down():
        response = member_client.post(star_url(lab, paper), {"starred": "1"}, headers=HTMX)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["HX-Reswap"] == "none"
    assert response.content.decode() == MESSAGE
    assert ReadingStatus.objects.filter(user=member, paper=paper).exists() is False


def test_a_full_page_never_says_hx_reswap(member_client, lab, conference):
    with database_down():
        response = member_client.get(dashboard_url(lab, conference))
    assert "HX-Reswap" not in response


def test_a_log_in_during_an_outage_is_a_503_too(client, member):
    with database_down():
        response = client.post(reverse("login"), {"username": "max", "password": "whatever"})
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()


def test_an_outage_is_one_log_line_not_one_traceback_per_request(member_client, lab, conference, caplog):
    with caplog.at_level(logging.WARNING), database_down():
        for _ in range(3):
            assert member_client.get(dashboard_url(lab, conference)).status_code == 503

    assert [(record.name, record.levelname, record.getMessage()) for record in caplog.records] == [
        (
            "papers.middleware",
            "WARNING",
            f"Database unavailable, answering 503 to GET {dashboard_url(lab, conference)}: {REFUSED}",
        )
    ]
    assert caplog.records[0].exc_info is None
    assert outage_log.unlogged == 2


def test_a_connection_closed_under_a_request_is_a_503(member_client, lab, conference):
    with database_down(InterfaceError("connection already closed")):
        response = member_client.get(dashboard_url(lab, conference))
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()


def test_the_session_failing_to_save_in_its_middleware_is_a_503_too(
    lab, member, conference, settings, monkeypatch, caplog
):
    """Raised by SessionMiddleware on the way out, not in the view: Django makes it a 500 at that layer."""
    settings.SESSION_SAVE_EVERY_REQUEST = True
    client = Client(raise_request_exception=False)
    client.force_login(member)

    def save(self, must_create=False):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(SessionStore, "save", save)
    with caplog.at_level(logging.WARNING):
        response = client.get(dashboard_url(lab, conference))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert MESSAGE in response.content.decode()
    # Django's own 500 and its traceback stay out of the log: the 503's one line stands for it.
    assert [(record.name, record.getMessage(), record.exc_info) for record in caplog.records] == [
        (
            "papers.middleware",
            f"Database unavailable, answering 503 to GET {dashboard_url(lab, conference)}: "
            "terminating connection due to administrator command",
            None,
        )
    ]


@pytest.mark.parametrize(
    ("engine", "options"),
    [
        ("django.db.backends.sqlite3", {"NAME": "/nonexistent/folder/db.sqlite3"}),
        ("django.db.backends.postgresql", {"NAME": "iclrnotes", "USER": "postgres", "HOST": "127.0.0.1", "PORT": "1"}),
    ],
    ids=["sqlite-file-unreachable", "postgresql-refused"],
)
def test_a_real_unreachable_database_error_gets_the_503(member_client, lab, conference, engine, options):
    error = unreachable_error(engine, **options)
    assert is_database_unavailable(error)
    with database_down(error):
        response = member_client.get(dashboard_url(lab, conference))
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()


def test_a_sqlite_error_that_is_a_bug_stays_an_error(member_client, lab, conference):
    """SQLite's OperationalError also means "no such table": that is a bug to see, not an outage to wait out."""
    settings_dict = connections.configure_settings(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )["default"]
    memory = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "memory")
    with pytest.raises(OperationalError) as caught, memory.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    memory.close()
    assert str(caught.value) == "no such table: no_such_table"
    assert is_database_unavailable(caught.value) is False

    with database_down(caught.value), pytest.raises(OperationalError, match="no such table"):
        member_client.get(dashboard_url(lab, conference))


def test_healthz_answers_during_an_outage(client):
    """The load balancer's probe reads no database: it tells gunicorn is up, not that the database is."""
    with database_down() as tried:
        response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
    assert tried == []
