"""Models of the fleet app, one module per concern."""

from server.fleet.models.addresses import AddressKind, HostAddress
from server.fleet.models.commands import Command, CommandKind
from server.fleet.models.findings import FindingChange, LatestFinding
from server.fleet.models.hosts import Host, HostStatus
from server.fleet.models.policies import Policy, PolicyAssignment
from server.fleet.models.reports import Report, ReportKind
from server.fleet.models.tokens import EnrollmentToken

__all__ = [
    "AddressKind",
    "Command",
    "CommandKind",
    "EnrollmentToken",
    "FindingChange",
    "Host",
    "HostAddress",
    "HostStatus",
    "LatestFinding",
    "Policy",
    "PolicyAssignment",
    "Report",
    "ReportKind",
]
