"""Qualifications as data: the import, the rules of combination and the qualification's page.

The two structures are the spec files in tests/specs/; their units are stub unit files written
here from what each qualification lists, and loaded with ``import_unit`` like any unit."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from units.combination import achievement_gaps, is_achieved, problems_with_choice, rules_in_words
from units.models import CombinationRule, Qualification, Unit, UnitGroup, UnitListing

pytestmark = pytest.mark.django_db

SPECS = Path(__file__).resolve().parent / "specs"
CERTIFICATE = SPECS / "certificate.yaml"
DIPLOMA = SPECS / "diploma.yaml"


def run(command, *paths):
    out = StringIO()
    call_command(command, *map(str, paths), stdout=out)
    return out.getvalue()


def listed(spec_path) -> dict[str, dict]:
    """Each unit the qualification file lists, by code."""
    data = yaml.safe_load(Path(spec_path).read_text())
    return {unit["code"]: unit for group in data["groups"] for unit in group["units"]}


def stub_unit_spec(code, title, level, credits) -> dict:
    """The smallest valid unit specification."""
    return {
        "format": 1,
        "version": 1,
        "unit": {
            "awarding_body": "OCR",
            "code": code,
            "title": title,
            "level": level,
            "credit_value": credits,
            "guided_learning_hours": 10 * credits,
            "purpose": f"A stub of unit {code}.",
            "assessment": "Assessed in the workplace.",
            "evidence_requirements": ["Evidence from the learner's job."],
            "nos": {"suite": "NOS for Customer Service", "original_urn": "CFACSA1"},
        },
        "sufficiency": {
            "simulation_allowed_for_performance": False,
            "min_distinct_occasions": 1,
            "min_distinct_customers": 1,
            "min_period_days": 0,
            "rationale": "A stub.",
        },
        "contexts": [{"letter": "a", "description": "during routine work", "short_name": "a"}],
        "outcomes": [{"number": 1, "title": "Do the work"}],
        "criteria": [
            {"number": "1.1", "wording": "Do it", "nos_code": "P1", "nos_wording": "Do it"}
        ],
    }


@pytest.fixture
def write(tmp_path):
    def write(data, name):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@pytest.fixture
def unit_files(write):
    """The stub unit files of the units a qualification file lists (or only ``codes``), with
    ``changes`` ({code: {field: value}}) made to their unit section."""

    def files(spec_path, codes=None, changes=None):
        paths = []
        for code, unit in listed(spec_path).items():
            if codes is not None and code not in codes:
                continue
            data = stub_unit_spec(code, unit["title"], unit["level"], unit["credits"])
            data["unit"].update((changes or {}).get(code, {}))
            paths.append(write(data, f"unit-{code}.yaml"))
        return paths

    return files


@pytest.fixture
def certificate(unit_files):
    run("import_unit", *unit_files(CERTIFICATE))
    run("import_qualification", CERTIFICATE)
    return Qualification.objects.with_structure().get(code="CS2-CERT")


@pytest.fixture
def diploma(unit_files):
    run("import_unit", *unit_files(DIPLOMA))
    run("import_qualification", DIPLOMA)
    return Qualification.objects.with_structure().get(code="CS3-DIP")


def units(*codes) -> list[Unit]:
    found = {unit.code: unit for unit in Unit.objects.filter(code__in=codes)}
    assert set(found) == set(codes)
    return [found[code] for code in codes]


def snapshot():
    return {
        "qualifications": list(Qualification.objects.values()),
        "groups": list(UnitGroup.objects.values()),
        "listings": list(UnitListing.objects.values()),
        "rules": list(CombinationRule.objects.values()),
        "rule groups": list(CombinationRule.groups.through.objects.values()),
    }


def refusal(command, *paths) -> str:
    with pytest.raises(CommandError) as raised:
        run(command, *paths)
    return str(raised.value)


# The import --------------------------------------------------------------------------------


def test_it_loads_the_certificate_with_its_groups_units_and_rules(certificate):
    assert (certificate.awarding_body, certificate.level, certificate.total_credits) == (
        "OCR",
        2,
        28,
    )
    assert str(certificate) == "OCR CS2-CERT Level 2 NVQ Certificate in Customer Service"
    assert certificate.label == "OCR qualification CS2-CERT"
    groups = certificate.groups.all()
    assert [(g.key, g.kind, [x.code for x in g.listings.all()]) for g in groups] == [
        ("A", "mandatory", ["M1", "M2"]),
        ("B", "optional", ["O1", "O2", "O3"]),
        ("C", "optional", ["O4", "O5", "O6", "O7"]),
    ]
    assert all(listing.unit.code == listing.code for listing in UnitListing.objects.all())
    rules = certificate.rules.all()
    assert [(r.kind, r.level, r.credits, [g.key for g in r.groups.all()]) for r in rules] == [
        ("one_from_each", None, None, ["B", "C"]),
        ("credits_at_level", 2, 11, ["B", "C"]),
    ]


def test_importing_the_same_file_again_changes_nothing(certificate):
    before = snapshot()

    output = run("import_qualification", CERTIFICATE)

    assert "already up to date, nothing changed" in output
    assert snapshot() == before


def test_a_new_version_updates_in_place_and_removes_units_no_longer_listed(certificate, write):
    data = yaml.safe_load(CERTIFICATE.read_text())
    data["version"] = 2
    data["qualification"]["title"] = "Level 2 NVQ Certificate in Customer Service (2026)"
    del data["groups"][2]["units"][0]  # O4
    data["groups"][1]["units"].append(data["groups"][2]["units"].pop())  # O7 moves to B
    data["rules"][1]["credits"] = 12
    ids = {listing.code: listing.pk for listing in UnitListing.objects.all()}

    output = run("import_qualification", write(data, "certificate-2.yaml"))

    assert "updated in place" in output
    assert "  - qualification: title, version" in output
    assert "  - unit O4: removed" in output
    assert "  - unit O7: group" in output
    assert "  - rule 2: credits" in output
    qualification = Qualification.objects.get()
    assert (qualification.pk, qualification.version) == (certificate.pk, 2)
    now = {listing.code: listing.pk for listing in UnitListing.objects.all()}
    assert now == {code: pk for code, pk in ids.items() if code != "O4"}
    assert UnitListing.objects.get(code="O7").group.key == "B"
    assert Unit.objects.filter(code="O4").exists()  # the unit stays in the catalogue


def test_a_new_version_may_remove_a_group_and_rules(certificate, write):
    data = yaml.safe_load(CERTIFICATE.read_text())
    data["version"] = 2
    data["groups"][1]["units"] += data["groups"].pop()["units"]  # C's units join B
    data["rules"] = [{"kind": "one_from_each", "groups": ["A"]}]
    ids = {listing.code: listing.pk for listing in UnitListing.objects.all()}

    output = run("import_qualification", write(data, "certificate-2.yaml"))

    assert "  - group C: removed" in output
    assert "  - rule 1: groups" in output
    assert "  - rule 2: removed" in output
    assert {listing.code: listing.pk for listing in UnitListing.objects.all()} == ids
    assert list(UnitGroup.objects.values_list("key", flat=True)) == ["A", "B"]
    rule = CombinationRule.objects.get()
    assert [group.key for group in rule.groups.all()] == ["A"]


def test_a_unit_not_loaded_yet_is_kept_waiting_then_linked_when_its_unit_is_imported(
    unit_files,
):
    output = run("import_qualification", CERTIFICATE)

    assert "loaded 3 groups, 9 units, 2 rules." in output
    assert "Not loaded yet (import their unit files to choose them): M1, M2, O1" in output
    assert not UnitListing.objects.filter(unit__isnull=False).exists()

    output = run("import_unit", *unit_files(CERTIFICATE, codes={"O3"}))

    assert "now loaded for OCR qualification CS2-CERT, Group B" in output
    o3 = UnitListing.objects.get(code="O3")
    assert o3.unit == Unit.objects.get(code="O3")
    assert UnitListing.objects.filter(unit__isnull=True).count() == 8


def test_a_qualification_imported_after_its_units_links_them_at_once(unit_files):
    run("import_unit", *unit_files(CERTIFICATE, codes={"M1"}))

    output = run("import_qualification", CERTIFICATE)

    assert UnitListing.objects.get(code="M1").unit.code == "M1"
    assert "Not loaded yet (import their unit files to choose them): M2, O1," in output


def test_it_refuses_a_listing_that_contradicts_the_loaded_unit_and_loads_nothing(unit_files, write):
    run("import_unit", *unit_files(CERTIFICATE, codes={"O3"}))
    data = yaml.safe_load(CERTIFICATE.read_text())
    data["groups"][1]["units"][2]["credits"] = 4
    data["groups"][1]["units"][2]["level"] = 2
    path = write(data, "certificate.yaml")

    message = refusal("import_qualification", DIPLOMA, path)

    assert "is not a valid qualification specification, so nothing was loaded" in message
    assert "groups[1].units[2].level: 2, but unit OCR O3 has level 3" in message
    assert "groups[1].units[2].credits: 4, but unit OCR O3 has credit_value 6" in message
    assert not Qualification.objects.exists()  # the diploma, before it, is not loaded either


def test_import_unit_refuses_a_unit_that_contradicts_a_waiting_listing(unit_files):
    run("import_qualification", CERTIFICATE)

    message = refusal(
        "import_unit", *unit_files(CERTIFICATE, codes={"O3"}, changes={"O3": {"credit_value": 9}})
    )

    assert (
        "unit.credit_value: 9, but OCR qualification CS2-CERT lists unit O3 in Group B with 6 "
        "credits" in message
    )
    assert not Unit.objects.exists()
    assert UnitListing.objects.get(code="O3").unit is None


def test_import_unit_refuses_to_change_a_linked_units_level_away_from_its_listing(
    certificate, unit_files
):
    message = refusal(
        "import_unit", *unit_files(CERTIFICATE, codes={"M1"}, changes={"M1": {"level": 3}})
    )

    assert "unit.level: 3, but OCR qualification CS2-CERT lists unit M1 in Group A at level 2" in (
        message
    )
    assert Unit.objects.get(code="M1").level == 2


def _certificate_data():
    return yaml.safe_load(CERTIFICATE.read_text())


def _without_credits(data):
    del data["groups"][1]["units"][2]["credits"]


def _without_title_and_level(data):
    data["groups"][2]["units"][1] = {"code": "O5", "credits": 4}


def _unknown_group(data):
    data["rules"][0]["groups"] = ["B", "Z"]


def _unknown_kind(data):
    data["groups"][1]["kind"] = "elective"


def _duplicate_code(data):
    data["groups"][2]["units"][0]["code"] = "O1"


def _bounds_on_mandatory(data):
    data["groups"][0]["min_credits"] = 8


def _min_over_max(data):
    data["groups"][1].update(min_credits=9, max_credits=5)


def _level_rule_without_level(data):
    del data["rules"][1]["level"]


def _too_few_credits_listed(data):
    data["qualification"]["total_credits"] = 99


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        (_without_credits, ["groups[1].units[2].credits: is missing"]),
        (
            _without_title_and_level,
            ["groups[2].units[1].title: is missing; groups[2].units[1].level: is missing"],
        ),
        (_unknown_group, ["rules[0].groups[1]: 'Z' is not the key of a group"]),
        (_unknown_kind, ["groups[1].kind: must be 'mandatory' or 'optional', not 'elective'"]),
        (_duplicate_code, ["groups[2].units[0].code: unit O1 is already listed at groups[1]."]),
        (_bounds_on_mandatory, ["groups[0].min_credits: a mandatory group takes every one"]),
        (_min_over_max, ["groups[1].min_credits: 9 is more than max_credits 5"]),
        (_level_rule_without_level, ["rules[1].level: is missing"]),
        (
            _too_few_credits_listed,
            ["qualification.total_credits: 99, but all the units listed give only 44"],
        ),
    ],
)
def test_it_refuses_a_malformed_file_naming_the_field_and_loads_nothing(write, change, problems):
    data = _certificate_data()
    change(data)

    message = refusal("import_qualification", write(data, "certificate.yaml"))

    for problem in problems:
        assert problem in message
    assert snapshot() == {key: [] for key in snapshot()}


def test_it_refuses_a_file_that_is_not_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("groups: [\n")

    assert "not valid YAML" in refusal("import_qualification", path)


# A unit of another awarding body -------------------------------------------------------------


@pytest.fixture
def mixed(write):
    """The certificate with its unit M1 listed as another awarding body's (Example's)."""
    data = _certificate_data()
    data["groups"][0]["units"][0]["awarding_body"] = "Example"
    return write(data, "mixed.yaml")


@pytest.fixture
def m1_of_each(write):
    """Unit M1 as OCR's and as Example's, both as the certificate lists M1."""
    ocr = stub_unit_spec("M1", "Handle customers", 2, 4)
    example = stub_unit_spec("M1", "Handle customers", 2, 4)
    example["unit"]["awarding_body"] = "Example"
    return write(ocr, "ocr-m1.yaml"), write(example, "example-m1.yaml")


def test_a_listing_naming_another_awarding_body_is_linked_to_that_bodys_unit(
    unit_files, mixed, m1_of_each
):
    run(
        "import_unit",
        *m1_of_each,
        *unit_files(CERTIFICATE, codes=set(listed(CERTIFICATE)) - {"M1"}),
    )

    run("import_qualification", mixed)

    m1 = UnitListing.objects.select_related("unit").get(code="M1")
    assert (m1.awarding_body, m1.unit.awarding_body) == ("Example", "Example")
    others = UnitListing.objects.exclude(code="M1").select_related("unit")
    assert {(listing.awarding_body, listing.unit.awarding_body) for listing in others} == {
        ("OCR", "OCR")
    }


def test_the_rules_take_the_other_bodys_unit_and_not_the_qualifications_own_of_that_code(
    unit_files, mixed, m1_of_each
):
    run(
        "import_unit",
        *m1_of_each,
        *unit_files(CERTIFICATE, codes=set(listed(CERTIFICATE)) - {"M1"}),
    )
    run("import_qualification", mixed)
    certificate = Qualification.objects.with_structure().get()
    others = units(*CERTIFICATE_CHOICE[1:])
    example_m1 = Unit.objects.get(awarding_body="Example", code="M1")
    ocr_m1 = Unit.objects.get(awarding_body="OCR", code="M1")

    assert problems_with_choice(certificate, [example_m1, *others]) == []
    assert is_achieved(certificate, [example_m1, *others])
    assert problems_with_choice(certificate, [ocr_m1, *others]) == [
        "Unit M1 is not part of this qualification",
        "Unit M1 Handle customers is mandatory",
        "The qualification needs 28 credits; these choices give 24",
    ]


def test_a_listing_of_another_body_waits_for_that_bodys_unit(mixed, m1_of_each):
    ocr_m1, example_m1 = m1_of_each
    output = run("import_qualification", mixed)

    assert "Not loaded yet (import their unit files to choose them): Example M1, M2, O1" in output

    assert "now loaded for" not in run("import_unit", ocr_m1)
    assert UnitListing.objects.get(code="M1").unit is None

    output = run("import_unit", example_m1)

    assert "now loaded for OCR qualification CS2-CERT, Group A" in output
    assert UnitListing.objects.get(code="M1").unit == Unit.objects.get(awarding_body="Example")


def test_a_listing_of_another_body_must_agree_with_that_bodys_unit(mixed, write):
    example = stub_unit_spec("M1", "Handle customers", 2, 5)
    example["unit"]["awarding_body"] = "Example"
    run("import_unit", write(example, "example-m1.yaml"))

    message = refusal("import_qualification", mixed)

    assert "groups[0].units[0].credits: 4, but unit Example M1 has credit_value 5" in message
    assert not Qualification.objects.exists()


def test_the_page_names_the_awarding_body_of_a_unit_that_is_not_the_qualifications(
    signed_in, mixed
):
    run("import_qualification", mixed)

    text = signed_in.get(f"/units/qualifications/{Qualification.objects.get().pk}/").text

    assert '<th scope="row" class="criterion-code">Example M1</th>' in text
    assert '<th scope="row" class="criterion-code">M2</th>' in text


class TestTheMigration:
    BEFORE = [("units", "0002_qualifications")]

    def test_listings_made_before_are_of_their_qualifications_awarding_body(self, migrator):
        apps = migrator(self.BEFORE)
        made = {}
        for body in ("OCR", "City & Guilds"):
            qualification = apps.get_model("units", "Qualification").objects.create(
                awarding_body=body, code="Q1", title="Q", level=2, total_credits=4, version=1
            )
            group = qualification.groups.create(
                key="A", name="Group A", kind="mandatory", position=1
            )
            made[body] = qualification.listings.create(
                group=group, code="U1", title="U", level=2, credits=4, position=1
            ).pk

        migrator(MigrationExecutor(connection).loader.graph.leaf_nodes())

        assert {
            body: UnitListing.objects.get(pk=pk).awarding_body for body, pk in made.items()
        } == {"OCR": "OCR", "City & Guilds": "City & Guilds"}


# The rules of combination: the certificate -------------------------------------------------

# 8 mandatory credits, then 20 optional: B gives O2 (L2, 5) and O3 (L3, 6); C gives O4 (L1, 5)
# and O5 (L1, 4). At Level 2 or above: 11 optional credits.
CERTIFICATE_CHOICE = ("M1", "M2", "O2", "O3", "O4", "O5")


def test_a_valid_certificate_choice_has_no_problems(certificate, django_assert_num_queries):
    chosen = units(*CERTIFICATE_CHOICE)

    with django_assert_num_queries(0):  # everything is prefetched by with_structure()
        assert problems_with_choice(certificate, chosen) == []
        assert is_achieved(certificate, chosen)


def test_a_mandatory_unit_left_out_is_named(certificate):
    chosen = units("M2", "O2", "O3", "O4", "O5", "O6")

    assert problems_with_choice(certificate, chosen) == ["Unit M1 Handle customers is mandatory"]


def test_a_unit_of_another_qualification_is_not_part_of_this_one(certificate, diploma):
    chosen = units(*CERTIFICATE_CHOICE, "DC1")

    assert problems_with_choice(certificate, chosen) == [
        "Unit DC1 is not part of this qualification"
    ]


def test_a_unit_not_loaded_yet_cannot_be_chosen(unit_files):
    run("import_unit", *unit_files(CERTIFICATE, codes={"M1", "O2", "O3", "O4", "O5"}))
    run("import_qualification", CERTIFICATE)
    certificate = Qualification.objects.with_structure().get()

    problems = problems_with_choice(certificate, units("M1", "O2", "O3", "O4", "O5"))

    assert problems == [
        "Unit M2 Work with others in customer service is not loaded yet and cannot be chosen",
        "The qualification needs 28 credits; these choices give 24",
    ]
    assert achievement_gaps(certificate, units("M1", "O2", "O3", "O4", "O5")) == [
        "Unit M2 Work with others in customer service is mandatory and not loaded yet",
        "The qualification needs 28 credits; the units achieved give 24",
    ]


def test_an_optional_unit_its_listing_does_not_point_at_cannot_be_chosen(certificate):
    # A unit of the same code that import_unit never linked: its level and credits were never
    # checked against the listing, so it is not the qualification's unit yet.
    UnitListing.objects.filter(code="O3").update(unit=None)
    certificate = Qualification.objects.with_structure().get()
    chosen = units(*CERTIFICATE_CHOICE)

    assert problems_with_choice(certificate, chosen) == [
        "Unit O3 Improve the customer relationship is not loaded yet and cannot be chosen",
        "11 optional credits must be at Level 2 or above; these choices give 5",
        "The qualification needs 28 credits; these choices give 22",
    ]
    assert achievement_gaps(certificate, chosen) == [
        "11 optional credits must be at Level 2 or above; the units achieved give 5",
        "The qualification needs 28 credits; the units achieved give 22",
    ]


def test_every_optional_group_needs_one_unit(certificate):
    # 8 + O1, O2, O3 (16) + nothing from C: Group C is missing and the total too.
    chosen = units("M1", "M2", "O1", "O2", "O3")

    assert problems_with_choice(certificate, chosen) == [
        "Choose at least one unit from Group C",
        "The qualification needs 28 credits; these choices give 24",
    ]


def test_optional_credits_below_level_2_do_not_count_towards_the_11(certificate):
    # 20 optional credits, but only O2's 5 at Level 2 or above.
    chosen = units("M1", "M2", "O1", "O2", "O4", "O5")

    assert problems_with_choice(certificate, chosen) == [
        "11 optional credits must be at Level 2 or above; these choices give 5",
        "The qualification needs 28 credits; these choices give 27",
    ]


def test_level_3_credits_count_as_at_level_2_or_above(certificate):
    # O3 and O7 are Level 3: 12 optional credits at Level 2 or above, none at exactly Level 2.
    chosen = units("M1", "M2", "O1", "O3", "O5", "O7")

    assert problems_with_choice(certificate, chosen) == []


def test_the_certificate_is_achieved_only_with_every_rule_met(certificate):
    achieved = units(*CERTIFICATE_CHOICE)

    assert is_achieved(certificate, achieved)
    assert achievement_gaps(certificate, achieved) == []
    assert not is_achieved(certificate, achieved[1:])
    assert achievement_gaps(certificate, units("M2", "O1", "O2", "O3")) == [
        "Unit M1 Handle customers is mandatory and not achieved yet",
        "No unit from Group C is achieved yet",
        "The qualification needs 28 credits; the units achieved give 20",
    ]


def test_units_achieved_outside_the_qualification_count_for_nothing(certificate, diploma):
    achieved = units("M1", "M2", "O2", "O3", "O4", "DB4")

    assert achievement_gaps(certificate, achieved) == [
        "The qualification needs 28 credits; the units achieved give 24"
    ]


def test_the_certificates_rules_in_words(certificate):
    assert rules_in_words(certificate) == [
        "The qualification needs at least 28 credits.",
        "Every unit of Group A is mandatory (8 credits).",
        "Group B is optional, with no minimum or maximum.",
        "Group C is optional, with no minimum or maximum.",
        "At least one unit from each of Group B and Group C.",
        "At least 11 optional credits at Level 2 or above.",
    ]


# The rules of combination: the diploma -----------------------------------------------------

# 19 mandatory, DA1 (3) from A, DB1 + DB2 + DB3 (16) from B, DC1 + DC3 (7) from C: 45.
DIPLOMA_CHOICE = ("DM1", "DM2", "DM3", "DA1", "DB1", "DB2", "DB3", "DC1", "DC3")


def test_a_valid_diploma_choice_is_achieved(diploma):
    chosen = units(*DIPLOMA_CHOICE)

    assert problems_with_choice(diploma, chosen) == []
    assert is_achieved(diploma, chosen)


def test_the_diplomas_group_minimums_and_maximum(diploma):
    # Nothing from A, 11 from B, 8 from C.
    chosen = units("DM1", "DM2", "DM3", "DB1", "DB2", "DC1", "DC2")

    assert problems_with_choice(diploma, chosen) == [
        "Group A needs at least 3 credits; these choices give 0",
        "Group B needs at least 16 credits; these choices give 11",
        "Group C allows at most 7 credits; these choices give 8",
        "The qualification needs 45 credits; these choices give 38",
    ]
    assert not is_achieved(diploma, chosen)
    assert achievement_gaps(diploma, chosen)[0] == (
        "Group A needs at least 3 credits; the units achieved give 0"
    )


def test_the_diploma_needs_45_credits_even_with_every_group_satisfied(diploma):
    chosen = units("DM1", "DM2", "DM3", "DA1", "DB1", "DB2", "DB3", "DC3")

    assert achievement_gaps(diploma, chosen) == [
        "The qualification needs 45 credits; the units achieved give 41"
    ]


def test_the_diplomas_rules_in_words(diploma):
    assert rules_in_words(diploma) == [
        "The qualification needs at least 45 credits.",
        "Every unit of Mandatory units is mandatory (19 credits).",
        "Group A is optional: at least 3 credits.",
        "Group B is optional: at least 16 credits.",
        "Group C is optional: at most 7 credits.",
    ]


# Bounds on the number of units, and rules in the specification's own words -----------------


def test_a_group_may_bound_the_number_of_units(unit_files, write):
    data = _certificate_data()
    data["groups"][1]["max_units"] = 1
    data["groups"][2].update(min_units=2, max_units=3)
    data["rules"][0]["description"] = "Learners take at least one unit from each optional group."
    run("import_unit", *unit_files(CERTIFICATE))
    run("import_qualification", write(data, "certificate.yaml"))
    certificate = Qualification.objects.with_structure().get()

    chosen = units("M1", "M2", "O2", "O3", "O7")

    assert problems_with_choice(certificate, chosen) == [
        "Group B allows at most 1 unit; these choices give 2",
        "Group C needs at least 2 units; these choices give 1",
        "The qualification needs 28 credits; these choices give 25",
    ]
    assert rules_in_words(certificate)[2:5] == [
        "Group B is optional: at most 1 unit.",
        "Group C is optional: at least 2 units and at most 3 units.",
        "Learners take at least one unit from each optional group.",
    ]


# The page ----------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, login, make_user):
    login(make_user(learner=True))
    client.get("/learner/")  # the chosen role is saved in the session once
    return client


def test_the_page_shows_groups_units_and_rules(signed_in, unit_files):
    run("import_unit", *unit_files(CERTIFICATE, codes={"M1"}))
    run("import_qualification", CERTIFICATE)
    qualification = Qualification.objects.get()

    page = signed_in.get(f"/units/qualifications/{qualification.pk}/")

    assert page.status_code == 200
    text = page.text
    assert "<h1>Level 2 NVQ Certificate in Customer Service</h1>" in text
    assert "OCR qualification CS2-CERT" in text
    m1 = Unit.objects.get(code="M1")
    assert f'<a href="/units/{m1.pk}/">Handle customers</a>' in text
    assert (
        'Work with others in customer service <span class="badge text-bg-warning">'
        "not loaded yet</span>" in text
    )
    assert "<li>At least 11 optional credits at Level 2 or above.</li>" in text
    assert "<li>Every unit of Group A is mandatory (8 credits).</li>" in text
    assert '<a href="/units/qualifications/">qualifications</a>' in signed_in.get("/units/").text
    listing = signed_in.get("/units/qualifications/")
    assert f'<a href="/units/qualifications/{qualification.pk}/">OCR qualification' in listing.text


def test_the_page_runs_a_fixed_number_of_queries(
    signed_in, certificate, diploma, django_assert_num_queries
):
    # Expect 11 queries: the session, the session user, the qualification, its groups, their
    # listings with their units, its rules, their groups, counting unread messages for the menu;
    # saving the session (a savepoint, the update, the release)
    with django_assert_num_queries(11):
        signed_in.get(f"/units/qualifications/{certificate.pk}/")
    # The diploma has more groups and units but no rules across groups: one query fewer.
    with django_assert_num_queries(10):
        signed_in.get(f"/units/qualifications/{diploma.pk}/")


def test_an_unknown_qualification_is_not_found_and_visitors_sign_in_first(
    client, signed_in, certificate
):
    assert signed_in.get(f"/units/qualifications/{certificate.pk + 1}/").status_code == 404
    client.logout()
    assert client.get(f"/units/qualifications/{certificate.pk}/").status_code == 302


def test_qualifications_are_read_only_in_the_admin(client, login, make_user, certificate):
    login(make_user(centre_admin=True))

    page = client.get(f"/admin/units/qualification/{certificate.pk}/change/")

    assert page.status_code == 200
    assert "Handle customers" in page.text
    assert client.get("/admin/units/qualification/add/").status_code == 403
    assert client.get("/admin/units/unitlisting/").status_code == 200
