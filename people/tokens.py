"""The invitation's link: Django's password-reset tokens under their own salt (so a password
reset's token is no invitation, and the reverse) and their own lifetime, INVITATION_DAYS."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """As Django's: the link stops working once the person sets a password or signs in."""

    key_salt = "people.tokens.InvitationTokenGenerator"

    @property
    def timeout_seconds(self) -> int:
        return settings.INVITATION_DAYS * 24 * 60 * 60

    def check_token(self, user, token) -> bool:
        # Django's check, timed by INVITATION_DAYS instead of PASSWORD_RESET_TIMEOUT.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if self._num_seconds(self._now()) - ts > self.timeout_seconds:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


invitation_tokens = InvitationTokenGenerator()
