"""The Unique Learner Number (ULN): the ten-digit number the Learning Records Service gives each
learner, which the awarding body's claims carry.

The check is the one the Learning Records Service publishes ("ULN validation", Education and
Skills Funding Agency, https://assets.publishing.service.gov.uk/government/uploads/system/
uploads/attachment_data/file/795483/WSLP02_ULN_Validation_v3.pdf), as HESA's data
specification also states it (https://www.hesa.ac.uk/collection/c21051/a/ULN): the first digit
is not zero; the first nine digits are weighted 10, 9, 8, ..., 2 and summed; the remainder of
that sum divided by 11, taken from 10, is the tenth digit (equivalently, all ten digits weighted
10 to 1 sum to 10 more than a multiple of 11). A stem whose remainder is 0 would need a check
digit of 10, so no ULN begins with it. For example 9276308686: 290 leaves 4, and 10 - 4 = 6.
"""

from django.core.exceptions import ValidationError

LENGTH = 10


def check_digit(first_nine: str) -> int | None:
    """The check digit the Learning Records Service's rule gives the first nine digits, or None
    where no digit fits (no ULN is issued with such a beginning)."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_nine[:9], range(10, 1, -1), strict=True)
    )
    digit = 10 - total % 11
    return digit if digit < 10 else None


def normalise(value: str) -> str:
    """A number as typed, without the spaces people put in long numbers."""
    return "".join(value.split())


def validate_uln(value: str) -> None:
    """Refuse ``value`` unless it is a Unique Learner Number, saying what is wrong with it."""
    if not value.isdigit() or not value.isascii():
        raise ValidationError(
            f"{value} is not a Unique Learner Number: it is {LENGTH} digits, with no letters or "
            "other signs.",
            code="uln",
        )
    if len(value) != LENGTH:
        raise ValidationError(
            f"{value} is not a Unique Learner Number: it is {LENGTH} digits, and this has "
            f"{len(value)}.",
            code="uln",
        )
    if value[0] == "0":
        raise ValidationError(
            f"{value} is not a valid Unique Learner Number: none begins with 0.", code="uln"
        )
    expected = check_digit(value[:9])
    if expected is None:
        raise ValidationError(
            f"{value} is not a valid Unique Learner Number: no check digit fits its first nine "
            "digits.",
            code="uln",
        )
    if int(value[9]) != expected:
        raise ValidationError(
            f"{value} is not a valid Unique Learner Number: its check digit should be {expected}.",
            code="uln",
        )


def uln_problem(value: str) -> str | None:
    """Why ``value`` is not a valid ULN, in plain words, or None (also for no ULN at all)."""
    if not value:
        return None
    try:
        validate_uln(value)
    except ValidationError as error:
        return error.messages[0]
    return None
