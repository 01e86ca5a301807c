from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"
    default = True


class AuditedAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on a site that audits every change made through it."""

    default = False
    default_site = "audit.admin.AuditedAdminSite"
