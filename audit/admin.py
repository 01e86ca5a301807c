"""Every change made through the Django admin is audited like any other: the site wraps each
registered ModelAdmin (ours and the libraries') so that its additions, changes and deletions
write an entry, with each changed field's value before and after."""

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import PasswordInput

from audit.chain import record
from audit.models import AuditEntry


def _shown(value: Any) -> Any:
    """A field's value as the trail keeps it: people and records by name and id."""
    if isinstance(value, models.Model):
        return {"id": value.pk, "name": str(value)}
    if isinstance(value, models.QuerySet | list | tuple | set):
        return [_shown(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _initial(form, name: str) -> Any:
    """The value the form started from, a related record as the record (the form keeps its id)."""
    value = form.initial.get(name)
    field = form.fields.get(name)
    if value is not None and hasattr(field, "queryset") and not isinstance(value, list | tuple):
        try:
            return field.queryset.model._default_manager.get(pk=value)
        except (field.queryset.model.DoesNotExist, ValueError, TypeError):
            return value
    return value


def _portfolio_of(obj: models.Model) -> Any:
    """The portfolio an object belongs to, so its entry goes on its learner's chain."""
    portfolio_model = AuditEntry._meta.get_field("portfolio").related_model
    if isinstance(obj, portfolio_model):
        return obj
    portfolio = getattr(obj, "portfolio", None)
    return portfolio if isinstance(portfolio, portfolio_model) else None


class AuditedAdminMixin:
    """Audits what ModelAdmin logs in the admin's own history (additions, changes, deletions)."""

    def construct_change_message(self, request, form, formsets, add=False):
        changes = {}
        for name in form.changed_data:
            field = form.fields.get(name)
            if "password" in name or isinstance(getattr(field, "widget", None), PasswordInput):
                changes[name] = {"changed": True}  # never the password itself
                continue
            changes[name] = {
                "from": None if add else _shown(_initial(form, name)),
                "to": _shown(form.cleaned_data.get(name)),
            }
        # The rows of its inlines (a workplace's contacts), saved by now: which were added,
        # changed (and which fields) or deleted.
        for formset in formsets or ():
            rows = {
                "added": [_shown(obj) for obj in getattr(formset, "new_objects", [])],
                "changed": [
                    {**_shown(obj), "fields": list(fields)}
                    for obj, fields in getattr(formset, "changed_objects", [])
                ],
                # gone from the database, so without their id by now
                "deleted": [{"name": str(obj)} for obj in getattr(formset, "deleted_objects", [])],
            }
            if rows := {what: objects for what, objects in rows.items() if objects}:
                changes[formset.prefix] = rows
        request._audit_changes = changes
        return super().construct_change_message(request, form, formsets, add)

    def _audit(self, request, obj, verb: str, changes: dict) -> None:
        what = f"{obj._meta.verbose_name} '{obj}'"
        described = "; ".join(
            f"{name} from {_named(change.get('from'))} to {_named(change.get('to'))}"
            if "to" in change
            else f"{name} changed"
            for name, change in changes.items()
        )
        record(
            f"admin.{verb}",
            actor=request.user,
            obj=obj,
            portfolio=_portfolio_of(obj),
            summary=f"{request.user} {verb} {what} in the admin"
            + (f": {described}" if described else ""),
            data={"model": obj._meta.label_lower, "changes": changes},
        )

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "added", getattr(request, "_audit_changes", {}))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "changed", getattr(request, "_audit_changes", {}))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "deleted", {})
        return super().log_deletions(request, queryset)


def _named(value: Any) -> str:
    if isinstance(value, dict) and "name" in value:
        return value["name"]
    if isinstance(value, list):
        return "[" + ", ".join(_named(item) for item in value) + "]"
    return "nothing" if value in (None, "") else str(value)


class AuditedAdminSite(admin.AdminSite):
    """The admin site: every ModelAdmin registered on it is audited."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(admin_class.__name__, (AuditedAdminMixin, admin_class), {})
        return super().register(model_or_iterable, admin_class, **options)
