"""The forms of progress reviews and breaks in learning."""

from django import forms
from django.utils import timezone

from assessments.forms import SignForm, _Form
from portfolio import limits
from portfolio.models import WorkplaceContact

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _not_after_today(day, what: str):
    if day and day > timezone.localdate():
        raise forms.ValidationError(f"{what} cannot be in the future.")
    return day


class ReviewForm(_Form):
    """What the assessor types; the progress since the last review is computed, never typed."""

    held_on = forms.DateField(label="Held on", widget=DATE)
    went_well = forms.CharField(
        label="What went well",
        max_length=limits.COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    targets = forms.CharField(
        label="Targets until the next review",
        max_length=limits.COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_held_on(self):
        return _not_after_today(self.cleaned_data["held_on"], "The day the review was held")


def _comments() -> forms.CharField:
    return forms.CharField(
        label="Your comments",
        required=False,
        max_length=limits.COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="They are part of what you sign, and no longer change once signed.",
    )


class ReviewSignForm(SignForm):
    """The learner's or the employer's signature: their comments, and their password."""

    comments = _comments()
    field_order = ["comments", "password"]


class ReviewLinkForm(_Form):
    """Who the assessor sends the single-use link to: an employer without an account."""

    contact = forms.ModelChoiceField(
        label="A contact at the learner's workplace",
        queryset=WorkplaceContact.objects.none(),
        required=False,
        empty_label="Someone else (type their name and e-mail address)",
    )
    name = forms.CharField(label="Their name", max_length=200, required=False)
    email = forms.EmailField(label="Their e-mail address", required=False)

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts

    def clean(self):
        data = super().clean()
        contact = data.get("contact")
        if contact is not None:
            data["name"] = data.get("name") or contact.name
            data["email"] = data.get("email") or contact.email
        if not data.get("name"):
            self.add_error("name", "Give the employer's name, or choose a contact.")
        if not data.get("email") and "email" not in self.errors:
            self.add_error(
                "email", "Give the employer's e-mail address, or choose a contact who has one."
            )
        return data


EMPLOYER_DECLARATION = (
    "I am the learner's employer (line manager). I have read this progress review, and my "
    "comments are my own."
)


class ReviewLinkSignForm(_Form):
    """The employer's signature through the link: comments, typed name and the declaration."""

    comments = _comments()
    typed_name = forms.CharField(label="Type your full name", max_length=200)
    declaration = forms.BooleanField(
        label=EMPLOYER_DECLARATION,
        error_messages={"required": "Tick the declaration to sign the review."},
    )

    def clean_typed_name(self):
        typed = " ".join(self.cleaned_data["typed_name"].split())
        if not typed:
            raise forms.ValidationError("Type your full name.")
        return typed


class BreakForm(_Form):
    starts_on = forms.DateField(label="First day of the break", widget=DATE)
    ends_on = forms.DateField(
        label="Last day of the break",
        widget=DATE,
        required=False,
        help_text="Leave it empty while the break goes on.",
    )
    reason = forms.CharField(
        label="Reason", max_length=limits.NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The last day of the break cannot be before its first day.")
        return data


class BreakEndForm(_Form):
    ends_on = forms.DateField(label="Last day of the break", widget=DATE)

    def __init__(self, *args, pause, **kwargs):
        super().__init__(*args, prefix=f"break-{pause.pk}", **kwargs)
        self.pause = pause

    def clean_ends_on(self):
        ends = self.cleaned_data["ends_on"]
        if ends < self.pause.starts_on:
            raise forms.ValidationError(
                f"The last day of the break cannot be before its first day, "
                f"{self.pause.starts_on:%d %B %Y}."
            )
        return ends


class ReviewWeeksForm(_Form):
    review_weeks = forms.IntegerField(
        label="Weeks between progress reviews", min_value=1, max_value=52
    )

    def __init__(self, *args, qualification, **kwargs):
        super().__init__(
            *args,
            prefix=f"q{qualification.pk}",
            initial={"review_weeks": qualification.review_weeks},
            **kwargs,
        )
        self.qualification = qualification
