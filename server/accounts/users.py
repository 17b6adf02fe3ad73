"""Creating the people who use the dashboard, with their role on a unit."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from server.accounts import audit
from server.accounts.models import Membership, Role, Unit
from server.errors import AdminError

ROLES = ("admin", "auditor", "superuser")


def generated_password() -> str:
    """16 URL-safe random characters (96 bits): passes every configured validator."""
    return secrets.token_urlsafe(12)


def add_user(name: str, role: str, unit: Unit | None, password: str, actor: str) -> User:
    """A new user: a superuser manages everything; an admin or auditor holds a role on `unit`.

    The password goes through the configured validators first, so a weak one is refused with
    the validators' own explanations.
    """
    if role not in ROLES:
        raise AdminError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if role != "superuser" and unit is None:
        raise AdminError(f"an {role} needs --unit: the subtree they may see")
    if not name.strip() or len(name) > 150:
        raise AdminError("a user name has 1 to 150 characters")
    if User.objects.filter(username=name).exists():
        raise AdminError(f"user {name!r} exists already")
    candidate = User(username=name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise AdminError("password refused: " + " ".join(exc.messages)) from None
    with transaction.atomic():
        if role == "superuser":
            user = User.objects.create_superuser(username=name, email="", password=password)
        else:
            user = User.objects.create_user(username=name, password=password)
        if unit is not None:
            member_role = Role.AUDITOR if role == "auditor" else Role.ADMIN
            Membership.objects.create(user=user, unit=unit, role=member_role)
        audit.record(actor, "user.add", name, {"role": role, "unit": unit.path if unit else None})
    return user


def set_password(name: str, password: str, actor: str) -> User:
    """A new password for an existing user, checked by the same validators as `add_user`.

    Every session the user has open ends with it (Django ties a session to the password
    hash). The audit entry records that the password changed, never the password.
    """
    user = User.objects.filter(username=name).first()
    if user is None:
        raise AdminError(f"no user {name!r}")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AdminError("password refused: " + " ".join(exc.messages)) from None
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(actor, "user.password", name, {})
    return user
