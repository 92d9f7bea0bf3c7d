"""The app's GitHub and ORCID clients, and what templates ask of them.

``{{ oauth_providers() }}`` lists the enabled providers as (name, label) pairs for the log-in
page; ``{{ linked_identities() }}`` the signed-in user's linked identities for settings.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import pass_context

from dailypapers.accounts import oauth
from dailypapers.accounts.oauth_flow import PROVIDER_NAMES, OAuthClients
from dailypapers.web.auth import current_user
from dailypapers.web.deps import store_of


def oauth_clients(request: Request) -> OAuthClients:
    """The app's clients, made on first use from its settings."""
    clients: OAuthClients | None = getattr(request.app.state, "oauth_clients", None)
    if clients is None:
        clients = OAuthClients(request.app.state.settings)
        request.app.state.oauth_clients = clients
    return clients


@pass_context
def oauth_providers(context: Any) -> list[tuple[str, str]]:
    enabled = oauth_clients(context["request"]).enabled
    return [(name, PROVIDER_NAMES[name]) for name in enabled]


@pass_context
def linked_identities(context: Any) -> list[oauth.LinkedIdentity]:
    request = context["request"]
    user = current_user(request)
    return oauth.identities_of(store_of(request), user.id) if user else []


TEMPLATE_GLOBALS = {"oauth_providers": oauth_providers, "linked_identities": linked_identities}
