import pytest
from django.core import mail

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ROLE_HOMES = {
    "learner": "/learner/",
    "assessor": "/assessor/",
    "iqa": "/iqa/",
    "eqa": "/eqa/",
    "centre_admin": "/centre/",
}


@pytest.mark.parametrize(("role", "home"), ROLE_HOMES.items())
def test_each_person_lands_on_the_home_of_their_role(client, make_user, role, home):
    user = make_user(**{role: True})

    response = client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_a_person_without_a_role_is_told_to_ask_for_one(login, make_user, client):
    login(make_user())

    response = client.get("/", follow=True)

    assert "Your account has no role yet" in response.text


def test_a_person_with_several_roles_can_switch(login, make_user, client):
    user = make_user(assessor=True, iqa=True)
    login(user)

    first = client.get("/", follow=True)
    assert first.redirect_chain[-1][0] == "/assessor/"
    assert "Acting as Assessor" in first.text
    assert 'href="/iqa/"' in first.text  # offered as the role to switch to

    switched = client.get("/iqa/")
    assert "Acting as Internal quality assurer" in switched.text
    # From now on the home page is the chosen role's.
    assert client.get("/").url == "/iqa/"


@pytest.mark.parametrize(("role", "home"), ROLE_HOMES.items())
def test_a_role_home_is_refused_to_anyone_without_the_role(login, make_user, client, role, home):
    other_role = "learner" if role != "learner" else "assessor"
    login(make_user(**{other_role: True}))

    assert client.get(home).status_code == 403


@pytest.mark.parametrize("url", ["/", *ROLE_HOMES.values(), "/units/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_a_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user(learner=True)

    response = client.post("/accounts/login/", {"username": user.username, "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_signing_out_needs_a_post_and_ends_the_session(login, make_user, client):
    login(make_user(learner=True))

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.url == "/accounts/login/"
    assert client.get("/learner/").status_code == 302


def test_a_person_can_change_their_password(login, make_user, client):
    user = make_user(learner=True)
    login(user)

    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-new-passphrase",
            "new_password2": "a-much-longer-new-passphrase",
        },
    )

    assert response.url == "/accounts/password_change/done/"
    user.refresh_from_db()
    assert user.check_password("a-much-longer-new-passphrase")


def test_a_forgotten_password_is_reset_by_email(
    client, make_user, django_capture_on_commit_callbacks
):
    user = make_user(learner=True)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": user.email})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "/accounts/reset/" in mail.outbox[0].body
