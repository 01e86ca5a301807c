"""Links between the pages of a long list that keep its search and filters."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, number: int) -> str:
    """This page's query string with ``page`` set to ``number``."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()
