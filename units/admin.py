from django.contrib import admin

from units.models import Criterion, EvidenceContext, LearningOutcome, Unit


class ReadOnlyAdmin(admin.ModelAdmin):
    """Units come from specification files through import_unit; the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CriterionInline(admin.TabularInline):
    model = Criterion
    fields = ["number", "nos_code", "kind", "wording"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ContextInline(CriterionInline):
    model = EvidenceContext
    fields = ["letter", "description", "short_name"]
    readonly_fields = fields


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ["awarding_body", "code", "title", "level", "credit_value", "version"]
    inlines = [ContextInline, CriterionInline]


@admin.register(LearningOutcome)
class LearningOutcomeAdmin(ReadOnlyAdmin):
    list_display = ["unit", "number", "title"]


@admin.register(Criterion)
class CriterionAdmin(ReadOnlyAdmin):
    list_display = ["unit", "number", "nos_code", "kind", "wording"]
    list_filter = ["unit", "kind"]
