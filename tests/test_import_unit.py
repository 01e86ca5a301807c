import copy

import pytest
import yaml
from django.core.management import CommandError, call_command

from portfolio.models import Portfolio
from tests.factories import C4_SPEC, PortfolioFactory
from units.models import Criterion, EvidenceContext, LearningOutcome, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec():
    return yaml.safe_load(C4_SPEC.read_text())


@pytest.fixture
def write_spec(tmp_path):
    def write(data, name="unit.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False) if isinstance(data, dict) else data)
        return path

    return write


def run_import(*paths):
    from io import StringIO

    out = StringIO()
    call_command("import_unit", *map(str, paths), stdout=out)
    return out.getvalue()


def snapshot():
    """Everything the import writes, to compare before and after."""
    return {
        "units": list(Unit.objects.values()),
        "outcomes": list(LearningOutcome.objects.values()),
        "criteria": list(Criterion.objects.values()),
        "contexts": list(EvidenceContext.objects.values()),
    }


def test_it_loads_the_c4_file():
    output = run_import(C4_SPEC)

    assert "loaded 3 learning outcomes, 27 criteria, 4 contexts" in output
    unit = Unit.objects.get()
    assert (unit.awarding_body, unit.code, unit.level, unit.credit_value) == ("OCR", "C4", 2, 6)
    assert unit.criteria.count() == 27
    assert unit.outcomes.count() == 3
    assert unit.contexts.count() == 4


def test_a_second_run_changes_nothing():
    run_import(C4_SPEC)
    before = snapshot()

    output = run_import(C4_SPEC)

    assert "already up to date, nothing changed" in output
    assert snapshot() == before  # same rows, same primary keys, same updated_at


def test_an_edited_file_updates_in_place_without_breaking_references(spec, write_spec):
    run_import(C4_SPEC)
    portfolio = PortfolioFactory()
    criterion_pk = Criterion.objects.get(number="3.6").pk
    unit_pk = Unit.objects.get().pk

    edited = copy.deepcopy(spec)
    edited["version"] = 2
    edited["sufficiency"]["min_distinct_customers"] = 5
    k6 = next(c for c in edited["criteria"] if c["nos_code"] == "K6")
    k6["question"] = "What is the difference between assertive and aggressive behaviour?"
    output = run_import(write_spec(edited))

    assert "updated in place" in output
    assert "criterion 3.6: knowledge_question" in output
    assert "unit: version, min_distinct_customers" in output
    unit = Unit.objects.get()
    assert unit.pk == unit_pk
    assert unit.min_distinct_customers == 5
    criterion = Criterion.objects.get(number="3.6")
    assert criterion.pk == criterion_pk
    assert criterion.knowledge_question.startswith("What is the difference")
    assert Portfolio.objects.get().unit_id == unit_pk
    assert portfolio.pk == Portfolio.objects.get().pk


def test_a_criterion_dropped_from_the_file_is_removed(spec, write_spec):
    run_import(C4_SPEC)
    edited = copy.deepcopy(spec)
    edited["criteria"] = [c for c in edited["criteria"] if c["number"] != "1.7"]

    output = run_import(write_spec(edited))

    assert "criterion 1.7 (P7): removed" in output
    assert not Criterion.objects.filter(number="1.7").exists()
    assert Criterion.objects.count() == 26


def test_a_second_unit_is_a_second_file(spec, write_spec):
    other = copy.deepcopy(spec)
    other["unit"]["code"] = "C5"
    other["unit"]["title"] = "Another unit"
    run_import(C4_SPEC, write_spec(other))

    assert sorted(Unit.objects.values_list("code", flat=True)) == ["C4", "C5"]
    assert Criterion.objects.filter(unit__code="C5").count() == 27


def _without(mapping, key):
    mapping.pop(key)


MALFORMED = {
    "not YAML at all": (
        "unit: [unclosed",
        "line 1, column 16: not valid YAML (expected ',' or ']'",
    ),
    "a list instead of a mapping": (
        "- just\n- a list\n",
        "the file must hold a mapping",
    ),
    "a missing title": (
        lambda spec: _without(spec["unit"], "title"),
        "unit.title: is missing",
    ),
    "a level that is not a number": (
        lambda spec: spec["unit"].update(level="two"),
        "unit.level: must be a whole number, not 'two'",
    ),
    "a NOS code in the wrong form": (
        lambda spec: spec["criteria"][4].update(nos_code="X5"),
        "criteria[4].nos_code: 'X5' is not in the expected form",
    ),
    "a duplicated criterion number": (
        lambda spec: spec["criteria"][1].update(number="1.1"),
        "criteria[1].number: '1.1' is already used by criteria[0]",
    ),
    "a knowledge criterion without its question": (
        lambda spec: _without(spec["criteria"][22], "question"),
        "criteria[22].question: knowledge criterion K6 needs a question",
    ),
    "a question on a performance criterion": (
        lambda spec: spec["criteria"][0].update(question="Why?"),
        "criteria[0].question: performance criterion P1 is evidenced by what the learner does",
    ),
    "a criterion of an outcome that does not exist": (
        lambda spec: spec["criteria"][0].update(number="4.1"),
        "criteria[0].number: '4.1' belongs to learning outcome 4, which is not in outcomes",
    ),
    "an unknown field": (
        lambda spec: spec["unit"].update(colour="blue"),
        "unit: unknown field 'colour'",
    ),
    "a negative threshold": (
        lambda spec: spec["sufficiency"].update(min_distinct_occasions=0),
        "sufficiency.min_distinct_occasions: must be at least 1, not 0",
    ),
}


@pytest.mark.parametrize("case", MALFORMED.keys())
def test_it_rejects_a_malformed_file_and_loads_nothing(case, spec, write_spec):
    change, message = MALFORMED[case]
    if callable(change):
        change(spec)
        path = write_spec(spec)
    else:
        path = write_spec(change)

    with pytest.raises(CommandError) as error:
        run_import(path)

    assert "is not a valid unit specification, so nothing was loaded" in str(error.value)
    assert message in str(error.value)
    assert Unit.objects.count() == 0
    assert Criterion.objects.count() == 0


def test_a_malformed_update_leaves_the_loaded_unit_as_it_was(spec, write_spec):
    run_import(C4_SPEC)
    before = snapshot()
    spec["criteria"][0]["wording"] = "Changed wording"
    spec["criteria"][1]["nos_code"] = "P1"  # now two criteria claim P1

    with pytest.raises(
        CommandError, match=r"criteria\[1\]\.nos_code: 'P1' is already used by criteria\[0\]"
    ):
        run_import(write_spec(spec))

    assert snapshot() == before


def test_a_bad_file_among_several_loads_none_of_them(spec, write_spec):
    bad = copy.deepcopy(spec)
    bad["unit"]["code"] = "C5"
    bad["unit"]["level"] = 0

    with pytest.raises(CommandError, match=r"unit\.level: must be at least 1, not 0"):
        run_import(C4_SPEC, write_spec(bad))

    assert Unit.objects.count() == 0


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"nowhere\.yaml is not a valid unit specification"):
        run_import(tmp_path / "nowhere.yaml")
