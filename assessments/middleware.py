from assessments.models import EqaVisit


class EqaVisitMiddleware:
    """Record every page an external quality assurer opens: who, what, when, and the answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_eqa:
            EqaVisit.objects.create(
                eqa=user,
                path=request.get_full_path()[:500],
                method=request.method,
                status=response.status_code,
            )
        return response
