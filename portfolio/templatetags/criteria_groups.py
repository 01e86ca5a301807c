"""The sections and groups a criteria field is shown in (``includes/criteria_groups.html``)."""

from django import forms, template

register = template.Library()


@register.filter
def criteria_sections(bound_field: forms.BoundField) -> list:
    """The checkboxes of a bound ``CriterionChoiceField`` in their sections and groups."""
    return bound_field.field.sections(bound_field)
