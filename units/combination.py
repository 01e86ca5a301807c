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
from dataclasses import dataclass

from units.models import CombinationRule, Qualification, Unit, UnitGroup, UnitListing


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


def credits_achieved(qualification: Qualification, achieved_units: Iterable[Unit]) -> int:
    """The credits the units achieved give towards the award, as its listings count them."""
    return sum(listing.credits for listing in _counted(_listings(qualification), achieved_units))


def credits_in_words(qualification: Qualification, achieved_units: Iterable[Unit]) -> str:
    """ "12 of 37 credits": the credits achieved against the award's total."""
    achieved = credits_achieved(qualification, achieved_units)
    return f"{achieved} of {_credits(qualification.total_credits)}"


@dataclass(frozen=True)
class GroupProgress:
    """How far the units achieved go towards one group's bounds: ``words`` says it ("Group B:
    3 of at least 16 credits", "Group A: 1 of 2 mandatory units"), ``met`` whether the group's
    own bounds are satisfied (the rules across groups and the total are the gaps' to say)."""

    group: UnitGroup
    credits: int
    units: int
    met: bool
    words: str


def progress_by_group(
    qualification: Qualification, achieved_units: Iterable[Unit]
) -> list[GroupProgress]:
    """Each group of the qualification, in order, with what the units achieved give it."""
    counted = _counted(_listings(qualification), achieved_units)
    progress = []
    for group in qualification.groups.all():
        in_group = [listing for listing in counted if listing.group_id == group.pk]
        credits = sum(listing.credits for listing in in_group)
        if group.is_mandatory:
            listed = len(group.listings.all())
            met = len(in_group) == listed
            words = f"{group.name}: {len(in_group)} of {_count(listed, 'mandatory unit')}"
        else:
            met = not _bounds_problems(group, in_group, "")
            words = f"{group.name}: {_bounds_progress(group, credits, len(in_group))}"
        progress.append(GroupProgress(group, credits, len(in_group), met, words))
    return progress


def _bounds_progress(group: UnitGroup, credits: int, units: int) -> str:
    """ "3 of at least 16 credits", "1 of at least 1 unit (at most 2 units)", "5 credits"."""
    parts = [
        f"{actual} of at least {_count(value, noun)}"
        for value, actual, noun in [
            (group.min_credits, credits, "credit"),
            (group.min_units, units, "unit"),
        ]
        if value is not None
    ] or [_credits(credits)]
    maxima = [
        f"at most {_count(value, noun)}"
        for value, noun in [(group.max_credits, "credit"), (group.max_units, "unit")]
        if value is not None
    ]
    return ", ".join(parts) + (f" ({_and(maxima)})" if maxima else "")


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
    listings = _listings(qualification)
    units = list(units)
    counted = _counted(listings, units)
    chosen = {listing.unit_id for listing in counted}  # the units chosen that are listed
    by_code = {(listing.awarding_body, listing.code): listing for listing in listings}
    problems = []
    unloaded_chosen: set[int] = set()
    for unit in sorted({unit.pk: unit for unit in units}.values(), key=lambda u: u.code):
        if unit.pk in chosen:
            continue
        listing = by_code.get((unit.awarding_body, unit.code))
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
        elif mandatory and listing.unit_id not in chosen:
            problems.append(
                f"{name} is mandatory and not achieved yet" if achieving else f"{name} is mandatory"
            )

    for group in qualification.groups.all():
        if not group.is_mandatory:
            in_group = [listing for listing in counted if listing.group_id == group.pk]
            problems += _bounds_problems(group, in_group, give)

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


def _listings(qualification: Qualification) -> list[UnitListing]:
    return [listing for group in qualification.groups.all() for listing in group.listings.all()]


def _counted(listings: list[UnitListing], units: Iterable[Unit]) -> list[UnitListing]:
    """The listings of ``units``: what they count for in the qualification."""
    ids = {unit.pk for unit in units}
    return [
        listing for listing in listings if listing.unit_id is not None and listing.unit_id in ids
    ]


def _bounds_problems(group: UnitGroup, in_group: list[UnitListing], give: str) -> list[str]:
    """How the listings counted in an optional group fall short of, or go past, its bounds."""
    credits = sum(listing.credits for listing in in_group)
    problems = []
    for bound, value, actual, noun, wording in [
        ("min", group.min_credits, credits, "credit", "needs at least"),
        ("max", group.max_credits, credits, "credit", "allows at most"),
        ("min", group.min_units, len(in_group), "unit", "needs at least"),
        ("max", group.max_units, len(in_group), "unit", "allows at most"),
    ]:
        if value is None or (actual >= value if bound == "min" else actual <= value):
            continue
        problems.append(f"{group.name} {wording} {_count(value, noun)}; {give} {actual}")
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
