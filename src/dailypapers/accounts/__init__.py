"""Accounts: users, passwords, sessions and personal API tokens (the rules; SQL in ``store``).

``models`` holds :class:`User` and the roles and scopes; ``passwords`` the argon2id hashing
and the password rules; ``service`` what the web, the CLI and other packages call (create and
find users, start, resolve and end sessions, make, resolve and revoke API tokens); ``limits``
the rate limits of sign-up, log-in and reset.
"""

from dailypapers.accounts.models import ROLES, SCOPES, AccountError, User

__all__ = ["ROLES", "SCOPES", "AccountError", "User"]
