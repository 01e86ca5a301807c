"""Dates kept as text in a JSON snapshot (a review's progress), read back as dates to show."""

import datetime

from django import template
from django.utils.dateparse import parse_date

register = template.Library()


@register.filter
def iso_date(value) -> datetime.date | str:
    """The date an ISO text ("2026-12-04") names, for the ``date`` filter; anything else as
    it is."""
    try:
        return parse_date(value) or value
    except (TypeError, ValueError):
        return value
