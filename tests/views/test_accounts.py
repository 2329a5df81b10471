from django.urls import reverse

from papers.models import Lab, Membership, User


def test_signup_creates_the_user_logs_in_and_gives_a_personal_lab(client, db):
    response = client.post(
        reverse("signup"),
        {"username": "newbie", "email": "", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
    )

    assert response["Location"] == reverse("home")
    user = User.objects.get(username="newbie")
    lab = Lab.objects.get(memberships__user=user)
    assert (lab.name, lab.is_personal) == ("newbie's papers", True)
    assert Membership.objects.get(user=user).role == "owner"
    assert "newbie&#x27;s papers" in client.get(reverse("home")).content.decode()


def test_signup_with_mismatched_passwords_shows_the_error_and_creates_nobody(client, db):
    response = client.post(
        reverse("signup"), {"username": "newbie", "password1": "a-long-pass-phrase-42", "password2": "different-42"}
    )
    assert "The two password fields didn’t match." in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_signup_page_shows_the_form(client, db):
    html = client.get(reverse("signup")).content.decode()
    assert "Create an account" in html and 'name="password1"' in html


def test_login_page_and_login(client, member):
    page = client.get(reverse("login")).content.decode()
    assert "<h1>Log in</h1>" in page and 'name="username"' in page and 'name="password"' in page
    response = client.post(reverse("login"), {"username": "max", "password": "correct horse battery staple"})
    assert response["Location"] == reverse("home")


def test_login_with_a_wrong_password_says_so(client, member):
    response = client.post(reverse("login"), {"username": "max", "password": "wrong"})
    assert "Please enter a correct username and password." in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(member_client):
    response = member_client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert member_client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_password_change(member_client, member):
    response = member_client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "another-long-phrase-77",
            "new_password2": "another-long-phrase-77",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    member.refresh_from_db()
    assert member.check_password("another-long-phrase-77")


def test_password_change_needs_login(client, db):
    assert client.get(reverse("password_change"))["Location"].startswith(reverse("login"))


def test_healthz_answers_ok_without_login_or_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain"


def test_healthz_answers_a_load_balancer_under_production_settings(client, settings):
    # Plain HTTP, an IP address as host: no HTTPS redirect, no DisallowedHost.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["notes.example.org"]
    response = client.get("/healthz", HTTP_HOST="10.1.2.3")
    assert (response.status_code, response.content) == (200, b"ok")
    assert client.get("/", HTTP_HOST="notes.example.org").status_code == 301


def test_a_lab_never_takes_a_reserved_slug(db):
    from papers import services

    user = services.sign_up(username="newcomer", email="", password="a-long-pass-phrase-42")
    assert services.create_lab(name="New", owner=user).slug == "new-lab"


def test_signup_query_count(client, db, django_assert_num_queries):
    data = {
        "username": "counted",
        "email": "",
        "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42",
    }
    # Two username checks (form, then model), the user, the personal lab (slug check, lab, membership),
    # the session and last login; savepoints around each atomic write; the new lab's version bump for its
    # first member; django-axes clears the new user's expired and failed log-in attempts (two queries).
    # None of it grows with the data.
    with django_assert_num_queries(22):
        client.post(reverse("signup"), data)


def test_an_htmx_request_after_the_session_expired_is_sent_to_login_whole(client, lab, paper):
    url = reverse("paper_star", args=[lab.slug, paper.conference.slug, paper.forum_id])
    response = client.post(url, {"starred": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next={url}"
