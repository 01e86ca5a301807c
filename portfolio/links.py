"""Single-use links for people without an account (a witness confirming a statement, an
employer signing a progress review): the token e-mailed, which expires; the first press of the
link's button exchanges it for a key kept in that browser's session, so the token in any log is
spent and the link opens nothing elsewhere. A model holding a link has the fields
``LINK_FIELDS``; what it may answer, and what is recorded, is its workflow's."""

import datetime
import hashlib
import secrets
from collections.abc import Callable
from typing import Protocol, TypeVar

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from portfolio.backends import client_ip

# What a model holding a link keeps of it: the token's hash, when it was first opened and the
# hash of the key given to that browser, when it was sent and when it stops working.
LINK_FIELDS = ["token_hash", "opened_at", "browser_key_hash", "sent_at", "expires_at"]


class HoldsLink(Protocol):
    pk: int
    token_hash: str
    opened_at: datetime.datetime | None
    browser_key_hash: str
    sent_at: datetime.datetime | None
    expires_at: datetime.datetime | None


LinkT = TypeVar("LinkT", bound=models.Model)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_issue(holder: HoldsLink, *, days: int) -> str:
    """Give ``holder`` a new link working for ``days`` (any earlier one, and the browser that
    opened it, stop working) and return its token, for the e-mail; the caller saves
    ``LINK_FIELDS``."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    holder.token_hash = token_hash(token)
    holder.opened_at, holder.browser_key_hash = None, ""
    holder.sent_at = now
    holder.expires_at = now + datetime.timedelta(days=days)
    return token


def link_cancel(holder: HoldsLink) -> None:
    """The link sent, and the browser that opened it, answer nothing any more."""
    holder.token_hash = ""
    holder.opened_at, holder.browser_key_hash = None, ""
    holder.expires_at = None


def link_expired(holder: HoldsLink) -> bool:
    return holder.expires_at is not None and holder.expires_at <= timezone.now()


def link_open(holder: HoldsLink) -> str:
    """Mark the link opened and return the key for this browser; the caller, holding the row
    locked and having checked it was not opened before, saves ``opened_at`` and
    ``browser_key_hash``."""
    key = secrets.token_urlsafe(32)
    holder.opened_at = timezone.now()
    holder.browser_key_hash = token_hash(key)
    return key


def key_matches(holder: HoldsLink, key: str | None) -> bool:
    """Whether ``key`` is the one given to the browser that opened the link."""
    return bool(key) and holder.browser_key_hash == token_hash(key)


def for_token(queryset: "models.QuerySet[LinkT]", token: str) -> LinkT | None:
    """The row whose link ``token`` is, or None."""
    return queryset.filter(token_hash=token_hash(token)).first() if token else None


def for_browser(queryset: "models.QuerySet[LinkT]", pk: int, key: str | None) -> LinkT | None:
    """The row whose link this browser opened (``key`` from ``link_open``), or None."""
    if not key:
        return None
    return queryset.filter(pk=pk, opened_at__isnull=False, browser_key_hash=token_hash(key)).first()


def browser_key(request: HttpRequest, session_key: str, pk: int) -> str | None:
    """The key this browser was given for the link of row ``pk``."""
    return request.session.get(session_key, {}).get(str(pk))


def link_landing(
    request: HttpRequest,
    holder: HoldsLink | None,
    *,
    problem: str | None,
    session_key: str,
    opened_here: Callable[[str | None], bool],
    open_link: Callable[[str | None], str | None],
    respond: str,
    refused: Callable[[str], HttpResponse],
    button: Callable[[], HttpResponse],
) -> HttpResponse:
    """The page of an e-mailed link (``holder`` the row it was found for, or None). Where it
    takes no answer, ``refused(why)`` says why: "unknown", ``problem`` (the workflow's reason),
    or "opened" (in another browser). Fetching it shows the ``button`` page and opens nothing
    (a mail scanner fetching the link spends nothing); the button's POST calls
    ``open_link(ip)`` (the workflow's, returning the browser's key, or None if the link was
    opened meanwhile), keeps the key in this browser's session under ``session_key`` and leads
    to the URL named ``respond``, without the token. A browser that opened it already goes
    there."""
    if holder is None:
        return refused("unknown")
    if problem:
        return refused(problem)
    keys = request.session.get(session_key, {})
    if opened_here(keys.get(str(holder.pk))):
        return redirect(respond, pk=holder.pk)
    if holder.opened_at is None and request.method == "POST":
        key = open_link(client_ip(request) or None)
        if key is not None:
            keys[str(holder.pk)] = key
            request.session[session_key] = keys
            return redirect(respond, pk=holder.pk)
        holder.refresh_from_db()
    if holder.opened_at is not None:
        return refused("opened")
    return button()
