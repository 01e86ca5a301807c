"""The six roles a person can hold, which one they are acting in, and where each one lands."""

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from portfolio.models import Role, User

SESSION_KEY = "active_role"

HOME_URL_NAMES = {
    Role.LEARNER: "learner_home",
    Role.ASSESSOR: "assessor_home",
    Role.IQA: "iqa_home",
    Role.EQA: "eqa_home",
    Role.CENTRE_ADMIN: "centre_home",
    Role.EMPLOYER: "employer_home",
}


def home_url(role: Role) -> str:
    return reverse(HOME_URL_NAMES[role])


def active_role(request: HttpRequest) -> Role | None:
    """The role the signed-in person is acting in: the one last chosen, else their first."""
    user = request.user
    if not user.is_authenticated:
        return None
    roles = user.roles
    chosen = request.session.get(SESSION_KEY)
    if chosen in roles:
        return Role(chosen)
    return roles[0] if roles else None


def set_active_role(request: HttpRequest, role: Role) -> None:
    if request.session.get(SESSION_KEY) != role.value:  # write the session only on a change
        request.session[SESSION_KEY] = role.value


def role_context(request: HttpRequest) -> dict:
    """Template context: the centre, the roles (to compare with), the active role and the
    others one may switch to."""
    context = {"centre_name": settings.CENTRE_NAME, "Role": Role}
    user: User = request.user
    if not getattr(user, "is_authenticated", False):
        return context
    current = active_role(request)
    context["active_role"] = current
    context["other_roles"] = [(role, home_url(role)) for role in user.roles if role != current]
    if current is not None:
        context["unread_notifications"] = user.notifications.filter(read_at__isnull=True).count
    return context
