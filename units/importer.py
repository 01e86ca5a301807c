"""Reading, checking and loading unit specification files (the format is in specs/README.md)."""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.db import IntegrityError, models, transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from units.models import Criterion, EvidenceContext, LearningOutcome, Unit, UnitListing

SCHEMA_PATH = Path(__file__).resolve().parent / "specs" / "schema.json"


class SpecError(Exception):
    """A specification file that cannot be loaded; ``problems`` names each field and its fault."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass
class ImportResult:
    unit: Unit
    created: bool
    changes: list[str] = field(default_factory=list)
    # The qualifications' listings of this unit that waited for it and now point at it.
    linked: list[UnitListing] = field(default_factory=list)


class _Refused(Exception):
    """The file contradicts what is loaded; ``args[0]`` names each field and its fault."""


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def read_spec(path: Path | str) -> dict[str, Any]:
    """Parse and check a specification file, raising SpecError with every problem found."""
    data = read_mapping(path, "the file must hold a mapping with format, unit, criteria, ...")
    problems = schema_problems(_validator(), data)
    if not problems:
        problems = _check_consistency(data)
    if problems:
        raise SpecError(path, problems)
    return data


def read_mapping(path: Path | str, not_a_mapping: str) -> dict[str, Any]:
    """The YAML mapping in ``path``, or SpecError saying why the file cannot be read as one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, ["file not found"]) from None
    except UnicodeDecodeError:
        raise SpecError(path, ["the file is not UTF-8 text"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(path, [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(data, dict):
        raise SpecError(path, [not_a_mapping])
    return data


def schema_problems(validator: Draft202012Validator, data: dict[str, Any]) -> list[str]:
    """Each way ``data`` fails the schema, in the order of the fields, naming the field."""
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(error) for error in errors]


def _location(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
}


def _describe(error: ValidationError) -> str:
    where = _location(error.absolute_path)
    value = error.instance
    match error.validator:
        case "required":
            missing = [name for name in error.validator_value if name not in value]
            prefix = "" if where == "(top level)" else f"{where}."
            return "; ".join(f"{prefix}{name}: is missing" for name in missing)
        case "additionalProperties":
            extra = sorted(set(value) - set(error.schema.get("properties", {})))
            return f"{where}: unknown field {', '.join(map(repr, extra))}"
        case "type":
            return f"{where}: must be {_TYPE_NAMES.get(error.validator_value)}, not {value!r}"
        case "pattern":
            return f"{where}: {value!r} is not in the expected form ({error.validator_value})"
        case "minimum" | "maximum":
            bound = "at least" if error.validator == "minimum" else "at most"
            return f"{where}: must be {bound} {error.validator_value}, not {value!r}"
        case "minLength" if error.validator_value == 1:
            return f"{where}: must not be empty"
        case "minItems":
            return f"{where}: needs at least {error.validator_value} entry"
        case "const":
            return f"{where}: must be {error.validator_value!r}, not {value!r}"
        case "enum":
            choices = " or ".join(map(repr, error.validator_value))
            return f"{where}: must be {choices}, not {value!r}"
    return f"{where}: {error.message}"


def _check_consistency(data: dict[str, Any]) -> list[str]:
    """Rules that cross entries, which the schema cannot express."""
    problems = []
    for section, key in [
        ("contexts", "letter"),
        ("outcomes", "number"),
        ("criteria", "number"),
        ("criteria", "nos_code"),
    ]:
        first_seen: dict[Any, int] = {}
        for index, entry in enumerate(data[section]):
            value = entry[key]
            if value in first_seen:
                problems.append(
                    f"{section}[{index}].{key}: {value!r} is already used by "
                    f"{section}[{first_seen[value]}]"
                )
            first_seen.setdefault(value, index)
    outcome_numbers = {outcome["number"] for outcome in data["outcomes"]}
    for index, criterion in enumerate(data["criteria"]):
        where = f"criteria[{index}]"
        outcome_number = int(criterion["number"].split(".")[0])
        if outcome_number not in outcome_numbers:
            problems.append(
                f"{where}.number: {criterion['number']!r} belongs to learning outcome "
                f"{outcome_number}, which is not in outcomes"
            )
        is_knowledge = criterion["nos_code"].startswith("K")
        if is_knowledge and not criterion.get("question"):
            problems.append(
                f"{where}.question: knowledge criterion {criterion['nos_code']} needs a question"
            )
        if not is_knowledge and "question" in criterion:
            problems.append(
                f"{where}.question: performance criterion {criterion['nos_code']} is evidenced by "
                "what the learner does, so it takes no question"
            )
    for outcome in data["outcomes"]:
        if not any(c["number"].startswith(f"{outcome['number']}.") for c in data["criteria"]):
            problems.append(f"outcomes: learning outcome {outcome['number']} has no criteria")
    return problems


def import_unit_file(path: Path | str) -> ImportResult:
    """Load or update the unit in ``path`` in one transaction; a second run changes nothing."""
    data = read_spec(path)
    try:
        with transaction.atomic():
            return _apply(data)
    except (models.ProtectedError, models.RestrictedError) as exc:
        raise SpecError(path, [str(exc.args[0])]) from None
    except IntegrityError as exc:
        raise SpecError(path, [f"the update conflicts with what is loaded ({exc})"]) from None
    except _Refused as exc:
        raise SpecError(path, exc.args[0]) from None


def _sync(obj: models.Model, values: dict[str, Any], label: str, changes: list[str]) -> None:
    """Save ``values`` onto ``obj`` only where they differ, recording what changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if obj.pk is None:
        obj.save()
        changes.append(f"{label}: added")
    elif changed:
        extra = ["updated_at"] if hasattr(obj, "updated_at") else []
        obj.save(update_fields=changed + extra)
        changes.append(f"{label}: {', '.join(name.removesuffix('_id') for name in changed)}")


def _apply(data: dict[str, Any]) -> ImportResult:
    spec_unit, sufficiency, nos = data["unit"], data["sufficiency"], data["unit"]["nos"]
    unit = Unit.objects.filter(
        awarding_body=spec_unit["awarding_body"], code=spec_unit["code"]
    ).first()
    created = unit is None
    unit = unit or Unit(awarding_body=spec_unit["awarding_body"], code=spec_unit["code"])
    changes: list[str] = []
    _sync(
        unit,
        {
            "title": spec_unit["title"],
            "level": spec_unit["level"],
            "credit_value": spec_unit["credit_value"],
            "guided_learning_hours": spec_unit["guided_learning_hours"],
            "purpose": spec_unit["purpose"],
            "assessment": spec_unit["assessment"],
            "evidence_requirements": spec_unit["evidence_requirements"],
            "nos_suite": nos["suite"],
            "nos_urn": nos["original_urn"],
            "nos_developed_by": nos.get("developed_by", ""),
            "nos_version": nos.get("version", ""),
            "nos_mapping": nos.get("mapping", ""),
            "version": data["version"],
            "simulation_allowed_for_performance": sufficiency["simulation_allowed_for_performance"],
            "min_distinct_occasions": sufficiency["min_distinct_occasions"],
            "min_distinct_customers": sufficiency["min_distinct_customers"],
            "min_period_days": sufficiency["min_period_days"],
            "sufficiency_rationale": sufficiency["rationale"],
        },
        "unit",
        changes,
    )

    contexts = {context.letter: context for context in unit.contexts.all()}
    for spec in data["contexts"]:
        context = contexts.pop(spec["letter"], None) or EvidenceContext(
            unit=unit, letter=spec["letter"]
        )
        values = {"description": spec["description"], "short_name": spec["short_name"]}
        _sync(context, values, f"context {spec['letter']}", changes)

    outcomes = {outcome.number: outcome for outcome in unit.outcomes.all()}
    for spec in data["outcomes"]:
        outcome = outcomes.pop(spec["number"], None) or LearningOutcome(
            unit=unit, number=spec["number"]
        )
        values = {
            "title": spec["title"],
            "guidance_intro": spec.get("guidance_intro", ""),
            "guidance_points": spec.get("guidance_points", []),
        }
        _sync(outcome, values, f"learning outcome {spec['number']}", changes)
    outcome_ids = {outcome.number: outcome.pk for outcome in unit.outcomes.all()}

    criteria = {criterion.number: criterion for criterion in unit.criteria.all()}
    for position, spec in enumerate(data["criteria"], start=1):
        criterion = criteria.pop(spec["number"], None) or Criterion(
            unit=unit, number=spec["number"]
        )
        kind = (
            Criterion.Kind.KNOWLEDGE if spec["nos_code"][0] == "K" else Criterion.Kind.PERFORMANCE
        )
        values = {
            "outcome_id": outcome_ids[int(spec["number"].split(".")[0])],
            "wording": spec["wording"],
            "nos_code": spec["nos_code"],
            "nos_wording": spec["nos_wording"],
            "kind": kind,
            "knowledge_question": spec.get("question", ""),
            "position": position,
        }
        _sync(criterion, values, f"criterion {spec['number']}", changes)

    # What the file no longer holds is removed; records that cite it (PROTECT) stop the import.
    for stale in [*contexts.values(), *criteria.values(), *outcomes.values()]:
        try:
            stale.delete()
        except (models.ProtectedError, models.RestrictedError):
            raise models.ProtectedError(
                f"{stale._meta.verbose_name} {stale} is no longer in the file but existing "
                "records refer to it, so it cannot be removed",
                set(),
            ) from None
        changes.append(f"{stale._meta.verbose_name} {stale}: removed")

    linked = _link_listings(unit)
    return ImportResult(unit=unit, created=created, changes=changes, linked=linked)


def _link_listings(unit: Unit) -> list[UnitListing]:
    """Point every qualification's listing of this unit (its awarding body and code, whatever
    the qualification's awarding body) at it, refusing if a listing gives another level or
    credit value: the qualification's rules count the credits it lists, so the two must agree."""
    listings = list(
        UnitListing.objects.filter(awarding_body=unit.awarding_body, code=unit.code).select_related(
            "qualification", "group"
        )
    )
    problems = []
    for listing in listings:
        where = f"{listing.qualification.label} lists unit {unit.code} in {listing.group.name}"
        if listing.level != unit.level:
            problems.append(f"unit.level: {unit.level}, but {where} at level {listing.level}")
        if listing.credits != unit.credit_value:
            problems.append(
                f"unit.credit_value: {unit.credit_value}, but {where} with {listing.credits} "
                "credits"
            )
    if problems:
        raise _Refused(problems)
    waiting = [listing for listing in listings if listing.unit_id != unit.pk]
    for listing in waiting:
        listing.unit = unit
        listing.save(update_fields=["unit"])
    return waiting
