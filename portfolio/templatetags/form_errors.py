"""What the error summary (``includes/error_summary.html``) needs to know of a form."""

from django import forms, template

register = template.Library()


@register.filter
def chose_files(form: forms.BaseForm) -> bool:
    """Whether the request the form was bound to carried any file (a browser keeps none when
    the page comes back). ``form.files`` in a template would find a field named "files"."""
    return any(uploads for _, uploads in form.files.lists())


@register.filter
def summary_name(field: forms.BoundField) -> str:
    """What the summary calls a field before its error: its label, without the full stop a
    label that is a sentence (a declaration) ends with."""
    return str(field.label or "").rstrip().removesuffix(".")
