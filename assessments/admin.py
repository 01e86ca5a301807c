from django.contrib import admin
from django.utils import timezone

from assessments.audit import record
from assessments.models import EqaGrant, SampleRate


@admin.register(EqaGrant)
class EqaGrantAdmin(admin.ModelAdmin):
    list_display = ["eqa", "whole_centre", "expires_at", "reason", "granted_by", "created_at"]
    list_filter = ["whole_centre"]
    autocomplete_fields = ["portfolios"]
    readonly_fields = ["granted_by", "created_at"]
    fields = [
        "eqa",
        "whole_centre",
        "portfolios",
        "expires_at",
        "reason",
        "granted_by",
        "created_at",
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        grant = form.instance
        scope = (
            "the whole centre" if grant.whole_centre else f"{grant.portfolios.count()} portfolios"
        )
        record(
            "eqa.granted" if not change else "eqa.grant_changed",
            actor=request.user,
            obj=grant,
            summary=f"{request.user} gave {grant.eqa} access to {scope} until "
            f"{timezone.localtime(grant.expires_at):%d %b %Y %H:%M}",
            data={
                "whole_centre": grant.whole_centre,
                "portfolios": sorted(grant.portfolios.values_list("pk", flat=True)),
                "expires_at": grant.expires_at.isoformat(),
            },
        )


@admin.register(SampleRate)
class SampleRateAdmin(admin.ModelAdmin):
    list_display = ["rating", "percent"]
    list_editable = ["percent"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
