"""The C4 specification file holds the unit exactly as OCR and the NOS wrote it."""

import pytest

pytestmark = pytest.mark.django_db

OCR_TO_NOS = {
    **{f"1.{n}": f"P{n}" for n in range(1, 8)},
    **{f"2.{n}": f"P{n + 7}" for n in range(1, 11)},
    **{f"3.{n}": f"K{n}" for n in range(1, 11)},
}


def test_it_has_all_27_criteria_with_both_codes(c4):
    pairs = list(c4.criteria.values_list("number", "nos_code"))

    assert pairs == list(OCR_TO_NOS.items())


def test_p_criteria_are_performance_and_k_criteria_are_knowledge(c4):
    for criterion in c4.criteria.all():
        expected = "performance" if criterion.nos_code.startswith("P") else "knowledge"
        assert criterion.kind == expected, criterion


def test_each_criterion_belongs_to_its_learning_outcome(c4):
    for criterion in c4.criteria.select_related("outcome"):
        assert criterion.number.split(".")[0] == str(criterion.outcome.number)


@pytest.mark.parametrize(
    ("number", "wording", "nos_wording"),
    [
        (
            "1.1",
            "Recognise types of customer behaviour that are difficult to deal with",
            "recognise types of customer behaviour that are difficult to deal with",
        ),
        (
            "1.4",
            "Put themselves in their customer's position and see the situation from the "
            "customer's point of view",
            "put yourself in your customer's position and see the situation from their point of "
            "view",
        ),
        (
            "2.2",
            "Use direct and factual questions about their customer's feelings and what has "
            "happened to identify what might satisfy the customer",
            "use direct and factual questions about your customer's feelings and what has "
            "happened to identify what might satisfy them",
        ),
        (
            "2.10",
            "Take any necessary action to protect their own safety or that of other customers or "
            "colleagues from a difficult customer",
            "take any necessary action to protect your own safety or that of other customers or "
            "colleagues from a difficult customer",
        ),
        (
            "3.6",
            "Explain the difference between assertive, aggressive and passive behaviour",
            "the difference between assertive, aggressive and passive behaviour",
        ),
        (
            "3.8",
            "State their organisation's limits of what will be tolerated from difficult "
            "customers before the transaction or relationship is closed",
            "your organisation's limits of what will be tolerated from difficult customers "
            "before the transaction or relationship is closed",
        ),
    ],
)
def test_wordings_are_exactly_as_written(c4, number, wording, nos_wording):
    criterion = c4.criteria.get(number=number)

    assert criterion.wording == wording
    assert criterion.nos_wording == nos_wording


def test_every_knowledge_criterion_has_one_question_and_no_performance_criterion_has_one(c4):
    for criterion in c4.criteria.all():
        assert bool(criterion.knowledge_question) == (criterion.kind == "knowledge"), criterion


def test_the_learning_outcomes_and_their_guidance(c4):
    outcomes = list(c4.outcomes.values_list("number", "title"))

    assert outcomes == [
        (1, "Recognise when customers may be difficult to deal with"),
        (2, "Deal with difficult customers"),
        (3, "Understand how to deliver customer service to difficult customers"),
    ]
    second = c4.outcomes.get(number=2)
    assert second.guidance_intro == "Candidates must be able to deal with difficult customers by:"
    assert second.guidance_points[0] == "Using effective listening techniques"
    assert len(second.guidance_points) == 10


def test_the_four_contexts_in_the_units_words(c4):
    contexts = list(c4.contexts.values_list("letter", "description"))

    assert contexts == [
        ("a", "during routine delivery of customer service"),
        ("b", "during a busy time in your job"),
        ("c", "during a quiet time in your job"),
        ("d", "when people, systems or resources have let you down"),
    ]


def test_the_unit_details_and_sufficiency_rules(c4):
    assert c4.title == "Deliver customer service to difficult customers"
    assert (c4.level, c4.credit_value, c4.guided_learning_hours) == (2, 6, 40)
    assert c4.nos_urn == "C4"
    assert c4.nos_suite == "NOS for Operational Delivery Contact Centre roles"
    assert c4.simulation_allowed_for_performance is False
    assert (c4.min_distinct_occasions, c4.min_distinct_customers, c4.min_period_days) == (4, 3, 28)
    assert len(c4.evidence_requirements) == 4
    assert "Simulation is not allowed for any performance evidence" in c4.evidence_requirements[0]
