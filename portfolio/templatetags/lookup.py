"""Looking a row's extra details up in a dictionary a view passes beside a list."""

from django import template

register = template.Library()


@register.filter
def get(mapping: dict | None, key):
    """``mapping[key]``, or None when it has no such key (or there is no mapping)."""
    return (mapping or {}).get(key)
