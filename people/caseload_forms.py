"""The caseload page's forms: whose portfolios, in which role (a GET, so the page can say how many
there are before anything is posted), then who takes them, which ones and why."""

from crispy_forms.helper import FormHelper
from django import forms
from django.db.models import Count, Exists, OuterRef, Q

from people.caseload import FIELDS
from portfolio import limits
from portfolio.limits import ShowsLimits
from portfolio.models import ROLE_FLAGS, Portfolio, Role, User


class _PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        label = str(obj)
        if (held := getattr(obj, "held", None)) is not None:
            label += f" (holds {held} now)"
        return label if obj.is_active else f"{label} (account not active)"


class CaseloadChooseForm(forms.Form):
    """Whose caseload: the role and the person holding portfolios in it (active or not: the
    portfolios of someone who has left are moved too)."""

    role = forms.TypedChoiceField(
        choices=[(role.value, role.label) for role in FIELDS],
        coerce=Role,
        initial=Role.ASSESSOR.value,
        widget=forms.RadioSelect,
        label="Move work as",
        error_messages={"required": "Choose whether an assessor's or an IQA's work moves."},
    )
    from_person = _PersonField(
        queryset=User.objects.filter(
            Exists(Portfolio.objects.filter(Q(assessor=OuterRef("pk")) | Q(iqa=OuterRef("pk"))))
        ),
        label="From",
        help_text="Everyone who assesses or quality-assures a portfolio now.",
        error_messages={
            "required": "Choose whose portfolios move.",
            "invalid_choice": "That person holds no portfolios now: choose again from the list.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = False


class CaseloadMoveForm(ShowsLimits, forms.Form):
    """Who takes the portfolios (an active person holding the role), which of them (every one
    that may move, unless some are unticked) and why."""

    to_person = _PersonField(
        queryset=User.objects.none(),
        label="Move to",
        error_messages={
            "required": "Choose who takes the portfolios.",
            "invalid_choice": "That person cannot take them: choose again from the list.",
        },
    )
    portfolios = forms.ModelMultipleChoiceField(
        # Any portfolio: one ticked that has changed hands since the page was read is refused
        # by the move, which says what became of it.
        queryset=Portfolio.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        label="Portfolios to move",
        error_messages={
            "required": "Tick the portfolios to move: none is ticked, so nothing moved.",
            "invalid_choice": "A ticked portfolio no longer exists; nothing moved. The list "
            "below is as it is now.",
            "invalid_pk_value": "A ticked portfolio is not one of the list; nothing moved.",
        },
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=limits.NOTE,
        help_text="Kept on each learner's record, for example: Ann leaves the centre at the end "
        "of the month.",
        error_messages={"required": "Say why the portfolios move."},
    )

    def __init__(self, *args, role: Role, from_person: User, movable: list[Portfolio], **kwargs):
        super().__init__(*args, **kwargs)
        self.role, self.from_person, self.movable = role, from_person, movable
        field = FIELDS[role]
        self.fields["to_person"].queryset = (
            User.objects.filter(is_active=True, **{ROLE_FLAGS[role]: True})
            .exclude(pk=from_person.pk)
            .annotate(held=Count(Portfolio._meta.get_field(field).related_query_name()))
        )
        self.fields["to_person"].help_text = (
            f"Active people holding the {role.label.lower()} role, with how many portfolios "
            "each holds in it now."
        )

    def ticked(self) -> set[int]:
        """The portfolios ticked: as posted, or, before a post, every one that may move."""
        if not self.is_bound:
            return {p.pk for p in self.movable}
        return {int(value) for value in self.data.getlist("portfolios") if value.isdigit()}
