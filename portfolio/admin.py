from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q

from portfolio import services
from portfolio.forms import EnrolmentUnitsForm, TypedWorkplaceForm
from portfolio.models import (
    ROLE_FLAGS,
    Enrolment,
    EqaGrant,
    Portfolio,
    Role,
    User,
    Workplace,
    WorkplaceContact,
)

admin.site.site_header = "Evidence portfolio administration"
admin.site.site_title = "Evidence portfolio"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "email",
        *ROLE_FLAGS.values(),
        "is_active",
    ]
    list_filter = [*ROLE_FLAGS.values(), "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            "Personal details",
            {"fields": ["first_name", "last_name", "email", "uln", "date_of_birth"]},
        ),
        (
            "Roles",
            {
                "fields": list(ROLE_FLAGS.values()),
                "description": "One person may hold several roles. An employer (line manager) "
                "follows the learners at the workplaces where they are a contact with this "
                "account (Workplaces).",
            },
        ),
        ("Account", {"fields": ["is_active", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "password1",
                    "password2",
                ],
            },
        ),
        ("Roles", {"fields": list(ROLE_FLAGS.values())}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may make someone a superuser.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly.append("is_superuser")
        return readonly

    # A superuser's account is shown to a centre administrator read-only: its change page, its
    # password form and its deletion are refused (User.may_manage, checked again on saving).
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or request.user.has_perm("portfolio.change_user", obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or request.user.has_perm("portfolio.delete_user", obj)
        )

    def save_model(self, request, obj, form, change):
        services.user_save(user=obj, by=request.user)

    def delete_model(self, request, obj):
        if not request.user.may_manage(obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The "delete selected" action asks for the permission once, for the whole list.
        if not request.user.is_superuser and queryset.filter(is_superuser=True).exists():
            raise PermissionDenied
        super().delete_queryset(request, queryset)


class PortfolioAdminForm(TypedWorkplaceForm):
    """The people are chosen from lists of the active people holding each role (and whoever is
    chosen already): a plain select carries its label for assistive technology, which the
    search-as-you-type box does not. The sector and the job role may be left empty."""

    # Each person's field and the role its list offers.
    PEOPLE = {"learner": Role.LEARNER, "assessor": Role.ASSESSOR, "iqa": Role.IQA}

    # Not always known when a learner starts: "Not known yet", as on the enrolment's form.
    sector = EnrolmentUnitsForm.base_fields["sector"]

    class Meta:
        model = Portfolio
        exclude = ["workplace"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, role in self.PEOPLE.items():
            if field := self.fields.get(name):
                chosen = Q(pk=getattr(self.instance, f"{name}_id"))
                field.queryset = User.objects.filter(
                    Q(is_active=True, **{ROLE_FLAGS[role]: True}) | chosen
                )
                field.error_messages["invalid_choice"] = (
                    f"Choose someone from the list: only active people holding the "
                    f"{role.label.lower()} role are offered."
                )

    def save(self, commit=True):
        self.instance.workplace = self.workplace()
        return super().save(commit)


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    form = PortfolioAdminForm
    list_display = ["learner", "unit", "assessor", "iqa", "status", "start_date", "workplace"]
    # Only the people holding a portfolio in each role, not every user of a large centre.
    list_filter = [
        "status",
        "unit",
        "workplace__sector",
        ("assessor", admin.RelatedOnlyFieldListFilter),
        ("iqa", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "learner__username",
        "learner__first_name",
        "learner__last_name",
        "workplace__organisation",
        "workplace__site",
    ]
    list_select_related = ["learner", "unit", "assessor", "iqa", "workplace"]
    date_hierarchy = "start_date"
    readonly_fields = ["status", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["learner", "unit", "start_date", "status"]}),
        ("Assignments", {"fields": ["assessor", "iqa"]}),
        (
            "Workplace",
            {
                "fields": ["organisation", "site", "sector", "job_role"],
                "description": "The workplace is found by its organisation, site and sector, "
                "or made if there is none yet; change a workplace itself under Workplaces.",
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    """Enrolments are made and their units chosen on the centre's pages, where the rules of
    combination are checked; here they are looked up, and the start date corrected."""

    list_display = ["learner", "qualification", "start_date", "created_at"]
    list_filter = ["qualification"]
    search_fields = ["learner__username", "learner__first_name", "learner__last_name"]
    list_select_related = ["learner", "qualification"]
    readonly_fields = ["learner", "qualification", "created_at"]
    fields = ["learner", "qualification", "start_date", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


class WorkplaceContactInline(admin.TabularInline):
    model = WorkplaceContact
    extra = 1
    fields = ["name", "job_title", "email", "phone", "user"]

    # The contact's account (a line manager holding the employer role) by number: a plain box
    # with its label, rather than a list of every person of the centre.
    raw_id_fields = ["user"]


@admin.register(Workplace)
class WorkplaceAdmin(admin.ModelAdmin):
    list_display = ["organisation", "site", "sector", "employer_sees_evidence", "updated_at"]
    search_fields = ["organisation", "site", "address", "contacts__name"]
    list_filter = ["sector", "employer_sees_evidence"]
    fields = [
        "organisation",
        "site",
        "sector",
        "address",
        "employer_sees_evidence",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [WorkplaceContactInline]


@admin.register(EqaGrant)
class EqaGrantAdmin(admin.ModelAdmin):
    list_display = ["eqa", "whole_centre", "expires_at", "reason", "granted_by", "created_at"]
    list_filter = ["whole_centre"]
    # Portfolios by number, and the expiry as one date-and-time box: both carry a label that
    # assistive technology reads, which the search-as-you-type box and the split boxes do not.
    raw_id_fields = ["portfolios"]
    formfield_overrides = {
        models.DateTimeField: {
            "form_class": forms.DateTimeField,
            "widget": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        },
    }
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
        services.eqa_grant_recorded(grant=form.instance, by=request.user, created=not change)
