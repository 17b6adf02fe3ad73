"""Models of the accounts app, one module per concern."""

from server.accounts.models.audit_entry import AuditEntry
from server.accounts.models.login_failures import LoginFailure
from server.accounts.models.units import Membership, Role, Unit

__all__ = ["AuditEntry", "LoginFailure", "Membership", "Role", "Unit"]
