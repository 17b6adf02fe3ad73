"""Which MAC addresses count as registered: the one place the list of unregistered devices
asks, so a new register plugs in here and nowhere else.

Registered today: every MAC an enrolled host that is not revoked reports as its own (the
HostAddress rows ingest keeps, `server.fleet.state`). The unit's computer register (roster,
issue 10 §1) adds its rows' MACs here once it exists. A MAC registered anywhere counts as
registered everywhere: the PC of a neighbouring unit on a shared LAN is that unit's PC, not
an unknown device, even though this unit's admin cannot see its record.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from server.fleet.models import AddressKind, HostAddress, HostStatus


def registered_mac_sources() -> list[QuerySet[Any, Any]]:
    """Subqueries, each yielding a `value` column of normalised MACs that are registered."""
    enrolled = (
        HostAddress.objects.filter(kind=AddressKind.MAC)
        .exclude(host__status=HostStatus.REVOKED)
        .values("value")
    )
    return [enrolled]
