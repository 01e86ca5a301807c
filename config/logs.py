"""What the logs never hold: the secret part of a link that opens something without a password
(a witness's statement, a password reset, an invitation), in the web server's access and error
logs and in the application's. Such a link may still be unused while a log is read, copied or
kept; the rest of the request line is left as it was."""

import logging
import re

HIDDEN = "[hidden]"

# The path's secret segments: /witness/<token>/ (but not /witness/respond/<number>/, which
# opens nothing by itself), and Django's /accounts/reset/<uid>/<token>/ and the invitation's
# /people/invitation/<uid>/<token>/ (but not the "set-password" step that replaces the token).
SECRET_LINKS = re.compile(
    r"(?P<start>/witness/)(?!respond/)[^/?#\s\"]+"
    r"|(?P<start2>/(?:accounts/reset|people/invitation)/[^/?#\s\"]+/)(?!set-password\b)[^/?#\s\"]+"
)


def _hide(match: re.Match) -> str:
    return (match["start"] or match["start2"]) + HIDDEN


def hide_secret_links(text: str) -> str:
    return SECRET_LINKS.sub(_hide, text)


class HideSecretLinks(logging.Filter):
    """A logging filter that writes a record's message with its secret links hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = hide_secret_links(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
