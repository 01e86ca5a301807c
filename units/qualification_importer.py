"""Reading, checking and loading qualification specification files (the format is in
specs/README.md, "Qualification specification files")."""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from jsonschema import Draft202012Validator

from units.importer import SpecError, _sync, read_mapping, schema_problems
from units.models import CombinationRule, Qualification, Unit, UnitGroup, UnitListing

SCHEMA_PATH = Path(__file__).resolve().parent / "specs" / "qualification.schema.json"


@dataclass
class QualificationImportResult:
    qualification: Qualification
    created: bool
    changes: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # codes listed whose units are not loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def read_qualification_spec(path: Path | str) -> dict[str, Any]:
    """Parse and check a qualification file, raising SpecError with every problem found."""
    data = read_mapping(
        path, "the file must hold a mapping with format, qualification, groups, ..."
    )
    problems = schema_problems(_validator(), data)
    if not problems:
        problems = _check_consistency(data)
    if problems:
        raise SpecError(path, problems)
    return data


def _check_consistency(data: dict[str, Any]) -> list[str]:
    """Rules that cross entries, which the schema cannot express."""
    problems = []
    keys: dict[str, int] = {}
    codes: dict[str, str] = {}
    listed_credits = 0
    for g, group in enumerate(data["groups"]):
        where = f"groups[{g}]"
        if group["key"] in keys:
            problems.append(
                f"{where}.key: {group['key']!r} is already used by groups[{keys[group['key']]}]"
            )
        keys.setdefault(group["key"], g)
        bounds = [name for name in _BOUNDS if name in group]
        if group["kind"] == "mandatory" and bounds:
            problems.append(
                f"{where}.{bounds[0]}: a mandatory group takes every one of its units, so it has "
                "no minimum or maximum"
            )
        for low, high in [("min_credits", "max_credits"), ("min_units", "max_units")]:
            if low in group and high in group and group[low] > group[high]:
                problems.append(f"{where}.{low}: {group[low]} is more than {high} {group[high]}")
        for u, unit in enumerate(group["units"]):
            here = f"{where}.units[{u}]"
            if unit["code"] in codes:
                problems.append(
                    f"{here}.code: unit {unit['code']} is already listed at {codes[unit['code']]}"
                )
            codes.setdefault(unit["code"], here)
            listed_credits += unit["credits"]
    total = data["qualification"]["total_credits"]
    if listed_credits < total:
        problems.append(
            f"qualification.total_credits: {total}, but all the units listed give only "
            f"{listed_credits}"
        )
    for r, rule in enumerate(data.get("rules", [])):
        for n, key in enumerate(rule["groups"]):
            if key not in keys:
                problems.append(f"rules[{r}].groups[{n}]: {key!r} is not the key of a group")
        if rule["kind"] == "one_from_each":
            for name in ("level", "credits"):
                if name in rule:
                    problems.append(
                        f"rules[{r}].{name}: a one_from_each rule counts units, so it takes no "
                        f"{name}"
                    )
    return problems


_BOUNDS = ("min_credits", "max_credits", "min_units", "max_units")


def import_qualification_file(path: Path | str) -> QualificationImportResult:
    """Load or update the qualification in ``path`` in one transaction; a second run changes
    nothing. A unit listed whose unit is loaded must agree with it on level and credits; one not
    loaded yet is kept waiting for it (``import_unit`` links it)."""
    data = read_qualification_spec(path)
    problems = _contradictions(data)
    if problems:
        raise SpecError(path, problems)
    try:
        with transaction.atomic():
            return _apply(data)
    except IntegrityError as exc:
        raise SpecError(path, [f"the update conflicts with what is loaded ({exc})"]) from None


def _awarding_body(data: dict[str, Any], listing: dict[str, Any]) -> str:
    """The awarding body of a listed unit: its own, if the listing names one, else the
    qualification's."""
    return listing.get("awarding_body", data["qualification"]["awarding_body"])


def _loaded_units(data: dict[str, Any]) -> dict[str, Unit]:
    """The loaded unit of each listing, by the code listed (codes are unique in the file)."""
    wanted = {
        (_awarding_body(data, unit), unit["code"])
        for group in data["groups"]
        for unit in group["units"]
    }
    candidates = Unit.objects.filter(
        awarding_body__in={body for body, _ in wanted}, code__in={code for _, code in wanted}
    )
    return {unit.code: unit for unit in candidates if (unit.awarding_body, unit.code) in wanted}


def _contradictions(data: dict[str, Any]) -> list[str]:
    loaded = _loaded_units(data)
    problems = []
    for g, group in enumerate(data["groups"]):
        for u, spec in enumerate(group["units"]):
            unit = loaded.get(spec["code"])
            if unit is None:
                continue
            name = f"unit {unit.awarding_body} {unit.code}"
            where = f"groups[{g}].units[{u}]"
            if spec["level"] != unit.level:
                problems.append(
                    f"{where}.level: {spec['level']}, but {name} has level {unit.level}"
                )
            if spec["credits"] != unit.credit_value:
                problems.append(
                    f"{where}.credits: {spec['credits']}, but {name} has credit_value "
                    f"{unit.credit_value}"
                )
    return problems


def _apply(data: dict[str, Any]) -> QualificationImportResult:
    spec = data["qualification"]
    qualification = Qualification.objects.filter(
        awarding_body=spec["awarding_body"], code=spec["code"]
    ).first()
    created = qualification is None
    qualification = qualification or Qualification(
        awarding_body=spec["awarding_body"], code=spec["code"]
    )
    changes: list[str] = []
    values = {
        "title": spec["title"],
        "level": spec["level"],
        "total_credits": spec["total_credits"],
        "version": data["version"],
    }
    _sync(qualification, values, "qualification", changes)

    loaded = _loaded_units(data)
    groups = {group.key: group for group in qualification.groups.all()}
    listings = {listing.code: listing for listing in qualification.listings.all()}
    kept_groups: dict[str, UnitGroup] = {}
    waiting = []
    for position, group_spec in enumerate(data["groups"], start=1):
        key = group_spec["key"]
        group = groups.pop(key, None) or UnitGroup(qualification=qualification, key=key)
        values = {
            "name": group_spec["name"],
            "kind": group_spec["kind"],
            "position": position,
            **{name: group_spec.get(name) for name in _BOUNDS},
        }
        _sync(group, values, f"group {key}", changes)
        kept_groups[key] = group
        for unit_position, unit_spec in enumerate(group_spec["units"], start=1):
            code = unit_spec["code"]
            listing = listings.pop(code, None) or UnitListing(
                qualification=qualification, code=code
            )
            unit = loaded.get(code)
            awarding_body = _awarding_body(data, unit_spec)
            if unit is None:
                waiting.append(
                    code if awarding_body == spec["awarding_body"] else f"{awarding_body} {code}"
                )
            values = {
                "group_id": group.pk,
                "awarding_body": awarding_body,
                "title": unit_spec["title"],
                "level": unit_spec["level"],
                "credits": unit_spec["credits"],
                "position": unit_position,
                "unit_id": unit.pk if unit else None,
            }
            _sync(listing, values, f"unit {code}", changes)

    # What the file no longer lists is removed (nothing refers to a listing or a group but the
    # qualification's own rules, which follow the file below).
    for stale in listings.values():
        stale.delete()
        changes.append(f"unit {stale.code}: removed")
    for stale in groups.values():
        stale.delete()
        changes.append(f"group {stale.key}: removed")

    rules = {rule.position: rule for rule in qualification.rules.prefetch_related("groups")}
    for position, rule_spec in enumerate(data.get("rules", []), start=1):
        rule = rules.pop(position, None) or CombinationRule(
            qualification=qualification, position=position
        )
        values = {
            "kind": rule_spec["kind"],
            "level": rule_spec.get("level"),
            "credits": rule_spec.get("credits"),
            "description": rule_spec.get("description", ""),
        }
        _sync(rule, values, f"rule {position}", changes)
        wanted = {kept_groups[key].pk for key in rule_spec["groups"]}
        if {group.pk for group in rule.groups.all()} != wanted:
            rule.groups.set(wanted)
            if not changes or changes[-1] != f"rule {position}: added":
                changes.append(f"rule {position}: groups")
    for stale in rules.values():
        stale.delete()
        changes.append(f"rule {stale.position}: removed")

    return QualificationImportResult(
        qualification=qualification, created=created, changes=changes, waiting=waiting
    )
