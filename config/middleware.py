"""Headers the whole site sends (what browsers may keep of a page, and what a page may use), and
the proxy headers it believes."""

from django.conf import settings

from portfolio.backends import scheme_header_trusted


def proxy_headers_from_proxies_only(get_response):
    """Forget ``SECURE_PROXY_SSL_HEADER`` (X-Forwarded-Proto) on a connection that is not
    from a trusted proxy, before anything reads it: a client reaching the web process directly
    cannot claim HTTPS (and so get secure cookies and skip the redirect) over plain HTTP."""

    def middleware(request):
        header = settings.SECURE_PROXY_SSL_HEADER
        if (
            header
            and header[0] in request.META
            and not scheme_header_trusted(request.META.get("REMOTE_ADDR", ""))
        ):
            del request.META[header[0]]
        return get_response(request)

    return middleware


def no_store_when_signed_in(get_response):
    """A page or file served to someone signed in is not kept by the browser or any cache on
    the way: once they sign out, the back button or a shared computer's cache shows nothing.
    A view that says otherwise keeps its own Cache-Control; static files are served before
    this and keep their long caching."""

    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response

    return middleware


def permissions_policy(get_response):
    """Turn off the browser features the site never uses (``PERMISSIONS_POLICY``), so nothing
    that finds its way into a page can ask for them."""
    header = ", ".join(
        f"{feature}=({' '.join(allowed)})"
        for feature, allowed in settings.PERMISSIONS_POLICY.items()
    )

    def middleware(request):
        response = get_response(request)
        response.setdefault("Permissions-Policy", header)
        return response

    return middleware
