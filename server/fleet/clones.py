"""Flagging a host whose identity seems to be used by more than one machine.

Two signs: two different reports validly signed under the same seq (two machines share one
key, e.g. a cloned virtual machine), or a full report naming another machine id than the one
enrolled. The host is flagged and the flag audited once per distinct reason; reports keep
being accepted, because refusing them would blind the server to both machines.
"""

from __future__ import annotations

import datetime as dt

from server.accounts import audit
from server.fleet.models import Host

SERVER_ACTOR = "server"
_MAX_REASON = 2000


def flag_clone(host: Host, reason: str, now: dt.datetime) -> bool:
    """Flag `host` (the caller saves it); True when this reason is new and was audited."""
    if reason in host.clone_reason:
        return False
    if host.clone_suspected_at is None:
        host.clone_suspected_at = now
    host.clone_reason = (f"{host.clone_reason}; {reason}" if host.clone_reason else reason)[
        :_MAX_REASON
    ]
    audit.record(SERVER_ACTOR, "host.clone_suspected", host.host_id, {"reason": reason}, at=now)
    return True
