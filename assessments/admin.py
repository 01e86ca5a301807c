from django.contrib import admin

from assessments.models import SampleRate


@admin.register(SampleRate)
class SampleRateAdmin(admin.ModelAdmin):
    list_display = ["rating", "percent"]
    list_editable = ["percent"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
