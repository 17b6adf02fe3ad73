"""Reading a required-software finding's evidence: is the client installed, is it running.

Kept free of Django (it was in `server.fleet.state`) because `custos-server verify` derives
the same two facts from the signed report, offline, to check what a snapshot claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def required_software_state(category: str, evidence: Any) -> tuple[bool | None, bool | None]:
    """(installed, running) of a required-software finding; (None, None) for other rules.

    The agent's required-software evidence carries `installed` (bool) and, when the rule
    asks for it or nothing is installed, `running` (bool, or null when it could not tell).
    Forbidden-software findings share the category but never carry `installed`.
    """
    if category != "software" or not isinstance(evidence, Mapping):
        return None, None
    installed = evidence.get("installed")
    if not isinstance(installed, bool):
        return None, None
    running = evidence.get("running")
    return installed, running if isinstance(running, bool) else None


def is_required_software(category: str, evidence: Any) -> bool:
    """Whether a finding is a required-software rule's, also when it could not be checked.

    The agent's required-software evidence always has the `installed` key: a bool, or null
    when the software list could not be read (then `running` is null too). Forbidden-
    software findings never have it. An `error` here is never a pass: it counts on the
    overview as "not verified", against the install and running rates.
    """
    return category == "software" and isinstance(evidence, Mapping) and "installed" in evidence
