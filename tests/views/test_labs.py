import datetime as dt
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from papers import services
from papers.models import Assignment, Invite, Lab
from tests.factories import MembershipFactory, PaperFactory, UserFactory


def lab_url(lab):
    return reverse("lab_detail", args=[lab.slug])


def roles(lab) -> list[tuple[str, str]]:
    return sorted(lab.memberships.values_list("user__username", "role"))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- Creating a lab ---------------------------------------------------------------------------------


def test_a_user_creates_a_lab_and_owns_it(client, db):
    user = UserFactory(username="ada")
    client.force_login(user)
    response = client.post(reverse("lab_new"), {"name": "Neuro Lab"}, follow=True)
    lab = Lab.objects.get(name="Neuro Lab")
    assert response.redirect_chain[-1][0] == lab_url(lab)
    assert roles(lab) == [("ada", "owner")]
    assert "“Neuro Lab” is ready. Invite your teammates with a link below." in messages_of(response)


def test_a_lab_needs_a_name(client, db):
    client.force_login(UserFactory())
    response = client.post(reverse("lab_new"), {"name": ""})
    assert "This field is required." in response.content.decode()
    assert Lab.objects.filter(is_personal=False).count() == 0


# --- Invites ----------------------------------------------------------------------------------------


def test_owner_creates_an_invite_link_and_a_newcomer_joins_through_it(client, owner, lab):
    client.force_login(owner)
    client.post(reverse("invite_create", args=[lab.slug]), {"days": "7", "max_uses": "2"})
    invite = Invite.objects.get(lab=lab)
    assert (invite.max_uses, invite.uses) == (2, 0)
    assert abs((invite.expires_at - timezone.now()) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    join_url = reverse("join", args=[invite.token])
    assert join_url in client.get(lab_url(lab)).content.decode()

    newcomer = UserFactory(username="nina")
    client.force_login(newcomer)
    page = client.get(join_url).content.decode()
    assert "Join Vision Lab" in page and "olivia invites you" in page
    response = client.post(join_url, follow=True)
    assert response.redirect_chain[-1][0] == lab_url(lab)
    assert ("nina", "member") in roles(lab)
    invite.refresh_from_db()
    assert invite.uses == 1


def test_invite_tokens_are_long_and_unguessable(owner, lab):
    first = services.create_invite(lab=lab, by=owner)
    second = services.create_invite(lab=lab, by=owner)
    assert len(first.token) >= 40 and first.token != second.token


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"revoked_at": timezone.now()}, "This invite was revoked. Ask the lab's owner for a new link."),
        (
            {"expires_at": timezone.now() - dt.timedelta(seconds=1)},
            "This invite has expired. Ask the lab's owner for a new link.",
        ),
        (
            {"max_uses": 1, "uses": 1},
            "This invite has been used as many times as it allows. Ask the lab's owner for a new link.",
        ),
    ],
    ids=["revoked", "expired", "used up"],
)
def test_an_unusable_invite_says_why_and_lets_nobody_in(client, owner, lab, change, message):
    invite = services.create_invite(lab=lab, by=owner)
    Invite.objects.filter(pk=invite.pk).update(**change)
    client.force_login(UserFactory(username="late"))
    url = reverse("join", args=[invite.token])

    assert message in unescape(client.get(url).content.decode())
    response = client.post(url)
    assert response.status_code == 410
    assert message in unescape(response.content.decode())
    assert "late" not in dict(roles(lab))


def test_a_member_following_an_invite_again_stays_as_they_are_and_uses_nothing(client, owner, member, lab):
    invite = services.create_invite(lab=lab, by=owner, max_uses=1)
    client.force_login(member)
    assert "You are in Vision Lab" in client.get(reverse("join", args=[invite.token])).content.decode()
    client.post(reverse("join", args=[invite.token]))
    invite.refresh_from_db()
    assert invite.uses == 0
    assert roles(lab) == [("max", "member"), ("olivia", "owner")]


def test_an_unknown_invite_token_is_a_404_with_a_message(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("join", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This invite link is not valid. Check that it was copied whole." in response.content.decode()


def test_joining_needs_login_and_comes_back_to_the_invite(client, owner, lab):
    invite = services.create_invite(lab=lab, by=owner)
    url = reverse("join", args=[invite.token])
    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"


def test_only_an_owner_invites_and_revokes(client, owner, member, lab):
    client.force_login(member)
    response = client.post(reverse("invite_create", args=[lab.slug]), {"days": "7"}, follow=True)
    assert "Only an owner of the lab can do that." in messages_of(response)
    assert Invite.objects.count() == 0
    invite = services.create_invite(lab=lab, by=owner)
    client.post(reverse("invite_revoke", args=[lab.slug, invite.pk]))
    invite.refresh_from_db()
    assert invite.revoked_at is None
    assert reverse("join", args=[invite.token]) not in client.get(lab_url(lab)).content.decode()


def test_owner_revokes_an_invite(client, owner, lab):
    invite = services.create_invite(lab=lab, by=owner)
    client.force_login(owner)
    client.post(reverse("invite_revoke", args=[lab.slug, invite.pk]))
    invite.refresh_from_db()
    assert invite.revoked_at is not None
    assert services.invite_problem(invite) == "This invite was revoked. Ask the lab's owner for a new link."


def test_a_bad_invite_form_says_what_is_wrong(client, owner, lab):
    client.force_login(owner)
    response = client.post(reverse("invite_create", args=[lab.slug]), {"days": "365"}, follow=True)
    assert "Ensure this value is less than or equal to 90." in messages_of(response)
    assert Invite.objects.count() == 0


# --- Roles, leaving, removing, and the last owner ---------------------------------------------------


def test_owner_makes_a_member_owner_and_back(client, owner, member, lab):
    client.force_login(owner)
    client.post(reverse("member_role", args=[lab.slug, member.pk]), {"role": "owner"})
    assert roles(lab) == [("max", "owner"), ("olivia", "owner")]
    client.post(reverse("member_role", args=[lab.slug, member.pk]), {"role": "member"})
    assert roles(lab) == [("max", "member"), ("olivia", "owner")]


def test_owner_hands_over_ownership(client, owner, member, lab):
    client.force_login(owner)
    response = client.post(reverse("ownership_hand_over", args=[lab.slug, member.pk]), follow=True)
    assert roles(lab) == [("max", "owner"), ("olivia", "member")]
    assert "max owns Vision Lab now; you are a member." in messages_of(response)


def test_the_last_owner_can_neither_leave_nor_step_down(client, owner, member, lab):
    client.force_login(owner)
    response = client.post(reverse("lab_leave", args=[lab.slug]), follow=True)
    assert "A lab needs an owner: hand over ownership to another member first." in messages_of(response)
    with pytest.raises(services.LabRuleBroken, match=r"A lab needs an owner: make someone else owner first\."):
        services.set_role(lab=lab, member=owner, role="member", by=owner)
    assert roles(lab) == [("max", "member"), ("olivia", "owner")]


def test_a_member_leaves_and_their_slice_goes_back(client, member, lab, conference):
    paper = PaperFactory(conference=conference)
    Assignment.objects.create(lab=lab, paper=paper, user=member)
    client.force_login(member)
    response = client.post(reverse("lab_leave", args=[lab.slug]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "max" not in dict(roles(lab))
    assert Assignment.objects.count() == 0


def test_owner_removes_a_member_who_then_gets_404(client, owner, member, lab):
    client.force_login(owner)
    client.post(reverse("member_remove", args=[lab.slug, member.pk]))
    assert roles(lab) == [("olivia", "owner")]
    client.force_login(member)
    assert client.get(lab_url(lab)).status_code == 404


def test_a_member_cannot_remove_anyone_or_change_roles(client, owner, member, lab):
    other = UserFactory(username="zed")
    MembershipFactory(lab=lab, user=other)
    client.force_login(member)
    for url, data in [
        (reverse("member_remove", args=[lab.slug, other.pk]), {}),
        (reverse("member_role", args=[lab.slug, member.pk]), {"role": "owner"}),
        (reverse("ownership_hand_over", args=[lab.slug, member.pk]), {}),
    ]:
        response = client.post(url, data, follow=True)
        assert "Only an owner of the lab can do that." in messages_of(response)
    assert roles(lab) == [("max", "member"), ("olivia", "owner"), ("zed", "member")]


def test_removing_twice_is_harmless(owner, member, lab):
    services.remove_member(lab=lab, member=member, by=owner)
    services.remove_member(lab=lab, member=member, by=owner)
    assert roles(lab) == [("olivia", "owner")]


def test_an_outsider_cannot_be_acted_on(client, owner, outsider, lab):
    client.force_login(owner)
    assert client.post(reverse("member_remove", args=[lab.slug, outsider.pk])).status_code == 404


# --- The lab page -----------------------------------------------------------------------------------


def test_owner_sees_invite_management_a_member_does_not(client, owner, member, lab):
    services.create_invite(lab=lab, by=owner)
    client.force_login(owner)
    assert "Invite teammates" in client.get(lab_url(lab)).content.decode()
    client.force_login(member)
    html = client.get(lab_url(lab)).content.decode()
    assert "Invite teammates" not in html and "/join/" not in html
    assert "Leave this lab" in html


@pytest.mark.parametrize("members", [1, 10])
def test_owner_lab_page_query_count_is_fixed(client, owner, lab, conference, django_assert_num_queries, members):
    for _ in range(members):
        MembershipFactory(lab=lab)
        services.create_invite(lab=lab, by=owner)
    client.force_login(owner)
    # session, user, membership+lab, invites, members+users, conferences with paper counts
    with django_assert_num_queries(6):
        client.get(lab_url(lab))


def test_the_lab_switcher_lists_my_labs(member_client, lab):
    html = member_client.get(reverse("lab_switcher"), headers={"HX-Request": "true"}).content.decode()
    assert "Vision Lab" in html and "max&#x27;s papers" in html and "+ New lab" in html
    assert member_client.get(reverse("lab_switcher"))["Location"] == reverse("home")


# --- Review fixes: the rules hold at the edges ------------------------------------------------------


def test_a_newcomer_signs_up_from_an_invite_link_and_comes_back_to_it(client, owner, lab):
    invite = services.create_invite(lab=lab, by=owner)
    join_url = reverse("join", args=[invite.token])
    login_page = client.get(client.get(join_url)["Location"]).content.decode()
    assert f'href="{reverse("signup")}?next={join_url}"' in login_page

    response = client.post(
        f"{reverse('signup')}?next={join_url}",
        {"username": "newbie", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
    )
    assert response["Location"] == join_url


def test_sign_up_never_sends_you_to_another_site(client, db):
    response = client.post(
        f"{reverse('signup')}?next=https://evil.example/",
        {"username": "newbie", "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"},
    )
    assert response["Location"] == reverse("home")


def test_the_last_use_of_a_link_lets_one_person_in(client, owner, lab):
    invite = services.create_invite(lab=lab, by=owner, max_uses=1)
    url = reverse("join", args=[invite.token])
    client.force_login(UserFactory(username="first"))
    client.post(url)
    client.force_login(UserFactory(username="second"))
    response = client.post(url)
    assert response.status_code == 410
    assert [name for name, _ in roles(lab)] == ["first", "olivia"]
    invite.refresh_from_db()
    assert invite.uses == 1


def test_used_up_links_are_not_listed_as_open(client, owner, lab):
    invite = services.create_invite(lab=lab, by=owner, max_uses=1)
    Invite.objects.filter(pk=invite.pk).update(uses=1)
    client.force_login(owner)
    assert reverse("join", args=[invite.token]) not in client.get(lab_url(lab)).content.decode()


def test_removing_yourself_is_leaving(client, owner, member, lab):
    client.force_login(member)
    response = client.post(reverse("member_remove", args=[lab.slug, member.pk]))
    assert response["Location"] == reverse("home")
    assert "max" not in dict(roles(lab))


def test_a_personal_lab_takes_no_invites(client, db):
    user = UserFactory(username="solo")
    personal = Lab.objects.get(memberships__user=user)
    with pytest.raises(services.LabRuleBroken, match=r"A personal lab is yours alone"):
        services.create_invite(lab=personal, by=user)
    client.force_login(user)
    assert "Invite teammates" not in client.get(lab_url(personal)).content.decode()
