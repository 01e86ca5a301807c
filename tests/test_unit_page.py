import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, login, make_user, c4):
    login(make_user(learner=True))
    return client.get(f"/units/{c4.pk}/")


def test_it_shows_every_criterion_with_both_codes_and_both_wordings(page, c4):
    assert page.status_code == 200
    for criterion in c4.criteria.all():
        assert f'<th scope="row" class="criterion-code">{criterion.number}</th>' in page.text
        assert f"{criterion.nos_code}<div" in page.text
        assert criterion.wording.replace("'", "&#x27;") in page.text
        assert criterion.nos_wording.replace("'", "&#x27;") in page.text


def test_it_shows_outcomes_contexts_requirements_and_sufficiency(page):
    text = page.text
    assert "1 Recognise when customers may be difficult to deal with" in text
    assert "<strong>d</strong> when people, systems or resources have let you down" in text
    assert "Simulation is not allowed for any performance evidence" in text
    assert "At least 4 different occasions." in text
    assert "Performance evidence may not come from simulation." in text
    assert "Knowledge question: Explain the difference between assertive" in text


@pytest.mark.parametrize("role", ["learner", "assessor", "iqa", "eqa", "centre_admin"])
def test_every_signed_in_person_can_read_it(client, login, make_user, c4, role):
    login(make_user(**{role: True}))

    assert client.get(f"/units/{c4.pk}/").status_code == 200
    assert c4.title in client.get("/units/").text


def test_anonymous_visitors_are_sent_to_sign_in(client, c4):
    assert client.get(f"/units/{c4.pk}/").status_code == 302


def test_an_unknown_unit_is_not_found(client, login, make_user, c4):
    login(make_user(learner=True))

    assert client.get(f"/units/{c4.pk + 1}/").status_code == 404


def test_it_reads_the_unit_in_a_fixed_number_of_queries(
    client, login, make_user, c4, django_assert_num_queries
):
    login(make_user(learner=True))
    client.get("/learner/")  # the chosen role is saved in the session once

    # Expect 10 queries: the session, the session user, the unit, its contexts, its outcomes, the
    # criteria of all outcomes, counting unread messages for the menu; saving the session (a
    # savepoint, the update, the release)
    with django_assert_num_queries(10):
        client.get(f"/units/{c4.pk}/")
