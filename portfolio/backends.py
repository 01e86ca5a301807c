"""Centre administrators manage the centre's records in the admin site without being superusers."""

from django.conf import settings
from django.contrib.auth.backends import BaseBackend

# "axes" holds the sign-in attempts: deleting one lifts a lock-out.
CENTRE_APPS = {"portfolio", "units", "assessments", "auth", "axes"}


class CentreAdministratorBackend(BaseBackend):
    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return self.has_module_perms(user_obj, perm.split(".", 1)[0])

    def has_module_perms(self, user_obj, app_label) -> bool:
        return bool(
            user_obj.is_active
            and getattr(user_obj, "is_centre_admin", False)
            and app_label in CENTRE_APPS
        )


def client_ip(request) -> str:
    """The visitor's address, for sign-in throttling: the connection's own address, or behind
    ``TRUSTED_PROXIES`` reverse proxies the address the outermost of them saw. X-Forwarded-For is
    read from the right, where the proxies write, so a visitor cannot choose their address."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        chain = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        chain = [address.strip() for address in chain if address.strip()]
        if len(chain) >= proxies:
            return chain[-proxies]
    return request.META.get("REMOTE_ADDR", "")
