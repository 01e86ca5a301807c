"""Centre administrators manage the centre's records in the admin site without being superusers
(and without changing a superuser's account)."""

import functools
import ipaddress

from django.conf import settings
from django.contrib.auth.backends import BaseBackend

# "axes" holds the sign-in attempts: deleting one lifts a lock-out.
CENTRE_APPS = {"portfolio", "units", "assessments", "auth", "axes"}


# What a centre administrator may not do to a superuser's account (User.may_manage).
MANAGING_PERMISSIONS = {"portfolio.change_user", "portfolio.delete_user"}


class CentreAdministratorBackend(BaseBackend):
    def has_perm(self, user_obj, perm, obj=None) -> bool:
        if perm in MANAGING_PERMISSIONS and obj is not None and not user_obj.may_manage(obj):
            return False
        return self.has_module_perms(user_obj, perm.split(".", 1)[0])

    def has_module_perms(self, user_obj, app_label) -> bool:
        return bool(
            user_obj.is_active
            and getattr(user_obj, "is_centre_admin", False)
            and app_label in CENTRE_APPS
        )


LOOPBACK = ("127.0.0.1", "::1")


def _trusted_proxy(address: str, proxies=None) -> bool:
    # A connection over a Unix socket has no address: only processes on this machine can open
    # it, so it comes from the proxy (gunicorn trusts it the same way).
    if not address:
        return True
    if not _is_address(address):
        return False
    peer = ipaddress.ip_address(address)
    listed = tuple(settings.TRUSTED_PROXIES if proxies is None else proxies)
    return any(peer in network for network in _networks(listed))


def scheme_header_trusted(address: str) -> bool:
    """Whether a connection from ``address`` may say the visitor used HTTPS
    (``SECURE_PROXY_SSL_HEADER``): one from ``TRUSTED_PROXIES``, or, when none are listed, from
    this machine (the loopback addresses, which gunicorn believes by default too)."""
    return _trusted_proxy(address, settings.TRUSTED_PROXIES or LOOPBACK)


@functools.cache
def _networks(proxies: tuple[str, ...]) -> list:
    return [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]


def client_ip(request) -> str:
    """The visitor's address, for the sign-in lock-out and the witness's answer: the
    connection's own address, or, on a connection from one of ``TRUSTED_PROXIES``, the address
    that proxy saw. X-Forwarded-For is read from the right, where the proxies write, and only
    while each hop is a trusted proxy, so a visitor cannot choose their address, whether they
    come through the proxy or straight to the web process."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    hops = [hop.strip() for hop in hops if hop.strip()]
    while hops and _trusted_proxy(address):
        hop = hops.pop()
        if not _is_address(hop):
            break  # not an address a proxy writes: the last one known stands
        address = hop
    return address


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
