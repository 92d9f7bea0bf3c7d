"""The accounts' JSON API: who a token belongs to, and public profiles.

``GET /api/whoami-v2`` answers as Hugging Face's does (``huggingface_hub.HfApi.whoami``
works against it): the signed-in user and, for a bearer token, its scope as
``auth.accessToken.role``. ``GET /api/users/{name}`` is a user's public profile. Names and
full names are data: JSON escapes nothing, so pages must (and do) escape them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from dailypapers.accounts import User
from dailypapers.accounts import service as accounts
from dailypapers.web.auth import bearer_scope, require_user
from dailypapers.web.deps import store_of
from dailypapers.web.models import ErrorBody

router = APIRouter(
    prefix="/api",
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)


def _profile(user: User) -> dict[str, Any]:
    return {
        "type": "user",
        "name": user.username,
        "fullname": user.display_name,
        "avatarUrl": None,
        "role": user.role,
        "createdAt": user.created_at.isoformat(timespec="milliseconds") + "Z",
    }


@router.get("/whoami-v2", summary="The user of this request's token or session")
def whoami(request: Request, user: Annotated[User, Depends(require_user)]) -> dict[str, Any]:
    scope = bearer_scope(request)
    answer = _profile(user)
    answer["email"] = user.email
    answer["emailVerified"] = user.confirmed
    answer["auth"] = {
        "type": "access_token" if scope else "session",
        "accessToken": {"displayName": "token", "role": scope or "write"},
    }
    return answer


@router.get("/users/{name}", summary="A user's public profile")
def user_profile(request: Request, name: Annotated[str, Path(max_length=100)]) -> dict[str, Any]:
    user = accounts.find_user(store_of(request), name)
    if user is None or user.suspended:
        raise HTTPException(404, f"no user {name[:40]!r}")
    return _profile(user)
