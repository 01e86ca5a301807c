from django.contrib import admin

from units.models import (
    CombinationRule,
    Criterion,
    EvidenceContext,
    LearningOutcome,
    Qualification,
    Unit,
    UnitGroup,
    UnitListing,
)


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


class GroupInline(CriterionInline):
    model = UnitGroup
    fields = [
        "position",
        "key",
        "name",
        "kind",
        "min_credits",
        "max_credits",
        "min_units",
        "max_units",
    ]
    readonly_fields = fields


class ListingInline(CriterionInline):
    model = UnitListing
    fields = ["group", "awarding_body", "code", "title", "level", "credits", "unit"]
    readonly_fields = fields


class RuleInline(CriterionInline):
    model = CombinationRule
    fields = ["position", "kind", "level", "credits", "description"]
    readonly_fields = fields


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    """Qualifications come from specification files through import_qualification."""

    list_display = ["awarding_body", "code", "title", "level", "total_credits", "version"]
    inlines = [GroupInline, ListingInline, RuleInline]


@admin.register(UnitListing)
class UnitListingAdmin(ReadOnlyAdmin):
    list_display = [
        "qualification",
        "group",
        "awarding_body",
        "code",
        "title",
        "level",
        "credits",
        "unit",
    ]
    list_filter = ["qualification"]
    list_select_related = ["qualification", "group", "unit"]
