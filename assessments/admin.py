from django.contrib import admin

from assessments.models import EqaGrant, SampleRate


@admin.register(EqaGrant)
class EqaGrantAdmin(admin.ModelAdmin):
    list_display = ["eqa", "whole_centre", "expires_at", "reason", "granted_by", "created_at"]
    list_filter = ["whole_centre"]
    autocomplete_fields = ["eqa", "portfolios"]
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


@admin.register(SampleRate)
class SampleRateAdmin(admin.ModelAdmin):
    list_display = ["rating", "percent"]
    list_editable = ["percent"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
