"""Translated names of the codes reports and hosts carry (categories, severities, statuses).

Agents send codes ("media", "critical", "fail"); people read them in their language. The
codes themselves stay in URLs and filters, so links work whatever the reader's language.
The words of what agents report come from the glossary the agent's check sheet uses too
(`agent.glossary`), so a page and a printed sheet never name one thing two ways; the states
only the server knows (host statuses, compliance, report kinds) are in the catalogue.
"""

from __future__ import annotations

from functools import partial
from typing import cast

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agent import glossary
from server.lib.reader_language import reader_lang


def _reader_term(table: glossary.Table, code: str) -> str:
    return glossary.term(table, code, reader_lang())


def glossary_labels(table: glossary.Table) -> dict[str, Promise]:
    """The table's words as lazy texts, in the language of whoever reads them."""
    # `lazy` proxies are Promises at run time; the stubs type the call as returning `str`.
    return {code: cast(Promise, lazy(partial(_reader_term, table, code), str)()) for code in table}


CATEGORIES = glossary_labels(glossary.CATEGORIES)
SEVERITIES = glossary_labels(glossary.SEVERITIES)
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
FINDING_STATUSES = {
    code: glossary_labels(glossary.STATUSES)[code]
    for code in ("fail", "error", "pass", "not_applicable")
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
COMPLIANCE: dict[str, Promise] = {  # the ComplianceState values, and "unknown" for None
    "compliant": _("compliant"),
    "noncompliant": _("non-compliant"),
    "unchecked": _("could not be checked"),
    "unknown": _("not yet reported"),
}
REPORT_KINDS: dict[str, Promise] = {"full": _("full"), "heartbeat": _("heartbeat")}
CAUSES = glossary_labels(glossary.CAUSES)  # why a rule could not be checked


def label(table: dict[str, Promise], code: object) -> str:
    """The translated name of `code`, or the code itself when it is not a known one."""
    text = table.get(str(code))
    return str(text) if text is not None else str(code)
