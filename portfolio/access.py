"""What every view shares: the one way to fetch an object for a person (404 if they may not see
it, 403 if they may see it but not do what they asked), and small request helpers."""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from portfolio.models import EvidenceItem, Role, User

ModelT = TypeVar("ModelT", bound=models.Model)


class VisibleQuerySet(Protocol[ModelT]):
    def visible_to(self, user: User) -> "models.QuerySet[ModelT]": ...


def get_for_user(
    user: User,
    queryset: VisibleQuerySet[ModelT],
    *,
    may: Callable[[ModelT, User], bool] | None = None,
    **lookup: Any,
) -> ModelT:
    """Fetch one object ``user`` may see, or raise Http404; if ``may`` says they may not do
    what they asked with it, raise PermissionDenied."""
    obj = get_object_or_404(queryset.visible_to(user), **lookup)
    if may is not None and not may(obj, user):
        raise PermissionDenied
    return obj


def role_required(role: Role) -> Callable:
    """A view only people holding ``role`` may open (403 for anyone else signed in)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any):
            if not request.user.has_role(role):
                raise PermissionDenied(f"This page is for the {role.label.lower()} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def posted(request: HttpRequest) -> tuple[Any, Any]:
    """The data and files to bind a form to: None unless the request is a POST (an empty POST,
    such as an unticked declaration, still binds)."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def site_url(request: HttpRequest) -> str:
    """This site's address as the person sees it, for links in e-mails."""
    return request.build_absolute_uri("/").rstrip("/")


def removal_messages(request: HttpRequest, files: list) -> None:
    """Tell the person what was taken out of each file they added before it was stored, or
    that it is being checked."""
    for prepared in files:
        if prepared.checked_later:
            messages.info(
                request,
                f"{prepared.original_name} is being checked and cleaned of personal details; "
                "it is added to the evidence once that is done, and you will be told.",
            )
        elif prepared.removal_note:
            messages.info(request, prepared.removal_note)


def error_messages(request: HttpRequest, error: ValidationError) -> None:
    """Show each message of a refused workflow to the person, on the next page."""
    for message in error.messages:
        messages.error(request, message)


def already_saved(request: HttpRequest, evidence: EvidenceItem) -> HttpResponse:
    """Where a repeated post of a form that creates evidence goes: the item it made."""
    messages.info(
        request, f"'{evidence.title}' was already saved from this form; it was not added again."
    )
    return redirect(evidence)
