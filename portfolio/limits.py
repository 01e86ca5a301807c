"""How long a typed text may be: each kind of text has one limit here, used by its model field
and its form (the browser's ``maxlength``, the help text and the server's check alike).

Generous for what a person writes at length, and bounded, so that no page, PDF or audit entry
carries megabytes of text. The database does not enforce them: text saved before a limit came
in is shown and printed as it is, and is refused only when it is next changed."""

from django import forms

# An evidence item's account (a knowledge answer and a discussion's summary are accounts too).
ACCOUNT = 20_000
# A witness statement, what a standardisation meeting discussed, an EQA report.
STATEMENT = 10_000
# An assessor's feedback, an IQA or EQA comment, an action point and its answer.
COMMENT = 5_000
# Where a criterion is shown, a reason for declining, withdrawing or unlocking.
NOTE = 2_000


def _line_feeds_only(value_from_datadict):
    """A textarea's text with its line breaks as the browser counts them for ``maxlength``
    (one character each): a form sends them as two."""

    def read(data, files, name):
        value = value_from_datadict(data, files, name)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value

    return read


class ShowsLimits:
    """A form mixin: every text area with a limit says so under it ("Up to 10,000 characters"),
    and counts its line breaks as the browser does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea) and getattr(field, "max_length", None):
                shown = f"Up to {field.max_length:,} characters."
                field.help_text = f"{field.help_text} {shown}".strip()
                field.widget.value_from_datadict = _line_feeds_only(
                    field.widget.value_from_datadict
                )
