"""The rules of combination: whether a choice of units, or the units achieved, satisfy a
qualification. Pure functions over ``Qualification.objects.with_structure()``: they run no
queries of their own.

Credits are counted as the qualification's specification lists them (the import makes them agree
with the units loaded). "Credits at Level L" means at Level L or above, as the awarding bodies'
rules of combination use it. Problems come in a fixed order: units that are not part of the
qualification, then each unit as listed (not loaded yet, mandatory), then each group's bounds in
the order of the groups, then the rules across groups in their order, then the total.
"""

from collections.abc import Iterable

from units.models import CombinationRule, Qualification, Unit, UnitGroup


def problems_with_choice(qualification: Qualification, units: Iterable[Unit]) -> list[str]:
    """What is wrong with choosing ``units`` (the complete set, mandatory and optional) for an
    enrolment on ``qualification``, in plain words; an empty list is a valid choice."""
    return _problems(qualification, units, achieving=False)


def achievement_gaps(qualification: Qualification, achieved_units: Iterable[Unit]) -> list[str]:
    """What the learner still lacks for the award, given the units achieved, in plain words;
    an empty list means the qualification is achieved. Units achieved that are not part of the
    qualification count for nothing and are no gap."""
    return _problems(qualification, achieved_units, achieving=True)


def is_achieved(qualification: Qualification, achieved_units: Iterable[Unit]) -> bool:
    return not achievement_gaps(qualification, achieved_units)


def rules_in_words(qualification: Qualification) -> list[str]:
    """The qualification's rule of combination as sentences, for its page."""
    lines = [f"The qualification needs at least {qualification.total_credits} credits."]
    for group in qualification.groups.all():
        lines.append(group_in_words(group))
    for rule in qualification.rules.all():
        lines.append(rule_in_words(qualification, rule))
    return lines


def group_in_words(group: UnitGroup) -> str:
    if group.is_mandatory:
        credits = sum(listing.credits for listing in group.listings.all())
        return f"Every unit of {group.name} is mandatory ({_credits(credits)})."
    bounds = [
        f"{word} {_count(value, noun)}"
        for word, value, noun in [
            ("at least", group.min_credits, "credit"),
            ("at most", group.max_credits, "credit"),
            ("at least", group.min_units, "unit"),
            ("at most", group.max_units, "unit"),
        ]
        if value is not None
    ]
    if not bounds:
        return f"{group.name} is optional, with no minimum or maximum."
    return f"{group.name} is optional: {_and(bounds)}."


def rule_in_words(qualification: Qualification, rule: CombinationRule) -> str:
    """The rule's own words from the specification, or words made from it."""
    if rule.description:
        return rule.description
    groups = _groups_of(rule)
    if rule.kind == CombinationRule.Kind.ONE_FROM_EACH:
        if len(groups) == 1:
            return f"At least one unit from {groups[0].name}."
        return f"At least one unit from each of {_and([group.name for group in groups])}."
    return (
        f"At least {rule.credits} {_credit_scope(qualification, groups)} at Level {rule.level} "
        "or above."
    )


def _problems(qualification: Qualification, units: Iterable[Unit], *, achieving: bool) -> list[str]:
    give = "the units achieved give" if achieving else "these choices give"
    listings = [listing for group in qualification.groups.all() for listing in group.listings.all()]
    by_unit = {listing.unit_id: listing for listing in listings if listing.unit_id is not None}
    by_code = {listing.code: listing for listing in listings}
    problems = []
    chosen: set[int] = set()  # the listings chosen, by id
    unloaded_chosen: set[int] = set()
    for unit in sorted({unit.pk: unit for unit in units}.values(), key=lambda u: u.code):
        listing = by_unit.get(unit.pk)
        if listing is not None:
            chosen.add(listing.pk)
            continue
        listing = (
            by_code.get(unit.code) if unit.awarding_body == qualification.awarding_body else None
        )
        if listing is not None:
            # The same code, but not the unit the listing was linked to: not loaded through
            # import_unit, so its level and credits were never checked against the listing.
            unloaded_chosen.add(listing.pk)
        elif not achieving:
            problems.append(f"Unit {unit.code} is not part of this qualification")

    for listing in listings:
        name = f"Unit {listing.code} {listing.title}"
        mandatory = listing.group.is_mandatory
        if not listing.is_loaded and (mandatory or listing.pk in unloaded_chosen):
            if not achieving:
                problems.append(f"{name} is not loaded yet and cannot be chosen")
            elif mandatory:
                problems.append(f"{name} is mandatory and not loaded yet")
        elif mandatory and listing.pk not in chosen:
            problems.append(
                f"{name} is mandatory and not achieved yet" if achieving else f"{name} is mandatory"
            )

    counted = [listing for listing in listings if listing.pk in chosen]
    for group in qualification.groups.all():
        if group.is_mandatory:
            continue
        in_group = [listing for listing in counted if listing.group_id == group.pk]
        credits = sum(listing.credits for listing in in_group)
        for bound, value, actual, noun, wording in [
            ("min", group.min_credits, credits, "credit", "needs at least"),
            ("max", group.max_credits, credits, "credit", "allows at most"),
            ("min", group.min_units, len(in_group), "unit", "needs at least"),
            ("max", group.max_units, len(in_group), "unit", "allows at most"),
        ]:
            if value is None or (actual >= value if bound == "min" else actual <= value):
                continue
            problems.append(f"{group.name} {wording} {_count(value, noun)}; {give} {actual}")

    for rule in qualification.rules.all():
        groups = _groups_of(rule)
        group_ids = {group.pk for group in groups}
        in_rule = [listing for listing in counted if listing.group_id in group_ids]
        if rule.kind == CombinationRule.Kind.ONE_FROM_EACH:
            for group in groups:
                if not any(listing.group_id == group.pk for listing in in_rule):
                    problems.append(
                        f"No unit from {group.name} is achieved yet"
                        if achieving
                        else f"Choose at least one unit from {group.name}"
                    )
        else:
            at_level = sum(listing.credits for listing in in_rule if listing.level >= rule.level)
            if at_level < rule.credits:
                problems.append(
                    f"{rule.credits} {_credit_scope(qualification, groups)} must be at Level "
                    f"{rule.level} or above; {give} {at_level}"
                )

    total = sum(listing.credits for listing in counted)
    if total < qualification.total_credits:
        problems.append(
            f"The qualification needs {qualification.total_credits} credits; {give} {total}"
        )
    return problems


def _groups_of(rule: CombinationRule) -> list[UnitGroup]:
    return sorted(rule.groups.all(), key=lambda group: group.position)


def _credit_scope(qualification: Qualification, groups: list[UnitGroup]) -> str:
    """Which credits a rule counts: "optional credits" when it counts every optional group."""
    ids = {group.pk for group in groups}
    all_groups = list(qualification.groups.all())
    if ids == {group.pk for group in all_groups}:
        return "credits"
    for kind, word in [
        (UnitGroup.Kind.OPTIONAL, "optional"),
        (UnitGroup.Kind.MANDATORY, "mandatory"),
    ]:
        if ids == {group.pk for group in all_groups if group.kind == kind}:
            return f"{word} credits"
    return f"credits from {_and([group.name for group in groups])}"


def _count(value: int, noun: str) -> str:
    return f"{value} {noun}" if value == 1 else f"{value} {noun}s"


def _credits(value: int) -> str:
    return _count(value, "credit")


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
