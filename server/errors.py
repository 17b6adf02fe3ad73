"""Errors of the server's own making, for callers to catch.

AdminError     an administrator asked for something that cannot be done (unknown unit, a
               policy that does not validate, a user that exists); the CLI prints it and
               exits 2, the dashboard will show it next to the form
AppendOnlyError  someone tried to change or delete an audit entry

Refusals of agent traffic are `agent.protocol.errors.ProtocolError`, shared with the agent.
"""

from __future__ import annotations


class AdminError(Exception):
    """A request by an administrator that cannot be carried out; the message says why."""


class AppendOnlyError(Exception):
    """The audit log is append-only: existing entries are never changed or deleted."""
