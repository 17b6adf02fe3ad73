"""Translated names of the codes reports and hosts carry (categories, severities, statuses).

Agents send codes ("media", "critical", "fail"); people read them in their language. The
codes themselves stay in URLs and filters, so links work whatever the reader's language.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

CATEGORIES: dict[str, Promise] = {
    "software": _("Software"),
    "media": _("Removable media"),
    "internet": _("Internet access"),
    "asset": _("Asset registration"),
}
SEVERITIES: dict[str, Promise] = {
    "critical": _("critical"),
    "high": _("high"),
    "medium": _("medium"),
    "low": _("low"),
    "info": _("info"),
}
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
FINDING_STATUSES: dict[str, Promise] = {
    "fail": _("fail"),
    "error": _("error"),
    "pass": _("pass"),
    "not_applicable": _("not applicable"),
}
FINDING_STATUS_RANK = {"fail": 0, "error": 1, "pass": 2, "not_applicable": 3}
HOST_STATUSES: dict[str, Promise] = {
    # With a context: Django's own catalogue has "active" (有效, of a user account) and wins.
    "active": pgettext_lazy("host status", "active"),
    "silent": _("silent"),
    "revoked": _("revoked"),
    "clone": _("clone suspected"),
}
STATUS_FILTERS: dict[str, Promise] = {
    "in_service": _("in service (not revoked)"),
    **HOST_STATUSES,
}
COMPLIANCE: dict[str, Promise] = {
    "compliant": _("compliant"),
    "noncompliant": _("non-compliant"),
    "unknown": _("not yet reported"),
}
REPORT_KINDS: dict[str, Promise] = {"full": _("full"), "heartbeat": _("heartbeat")}


def label(table: dict[str, Promise], code: object) -> str:
    """The translated name of `code`, or the code itself when it is not a known one."""
    text = table.get(str(code))
    return str(text) if text is not None else str(code)
