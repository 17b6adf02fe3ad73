"""`custos-server snapshot create`: export a unit subtree into one signed snapshot file.

1. Read every host of the subtree (`contents`), adding each host's stored envelopes to the
   archive as it goes, into a temporary file beside the target.
2. Add snapshot.json, the CSVs and the printable page built from the same records.
3. Write the manifest (every member's SHA-256 and size, the server's public key, the head of
   the audit log) and sign it with the server key; rename the file into place.
4. Record "snapshot.create" in the audit log with the unit and the file's SHA-256, so that a
   snapshot handed to an auditor can later be matched with the export that made it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from agent.protocol.canonical import canonical_json
from agent.protocol.envelope import format_time
from server.accounts import audit
from server.accounts.models import AuditEntry, Unit
from server.errors import AdminError
from server.lib.server_key import current_server_key
from server.snapshots import csv_export, printable
from server.snapshots.bundle import (
    FORMAT,
    FORMAT_VERSION,
    SNAPSHOT,
    BundleWriter,
    envelope_name,
    fingerprint,
    raw_public_key,
)
from server.snapshots.contents import subtree_evidence

AUDIT_ACTION = "snapshot.create"


@dataclass(frozen=True)
class Created:
    path: Path
    unit: str
    hosts: int
    reports: int
    sha256: str
    fingerprint: str
    created_at: str


def _audit_head() -> dict[str, Any] | None:
    """The newest audit entry: a later look at the log can show nothing before it was lost."""
    head = AuditEntry.objects.order_by("-id").values("id", "hash").first()
    return {"id": head["id"], "hash": head["hash"]} if head else None


def _target(out: Path) -> Path:
    target = out.expanduser()
    if target.is_dir():
        raise AdminError(f"{target}: is a directory; name the snapshot file to write")
    if not target.parent.is_dir():
        raise AdminError(f"{target.parent}: no such directory")
    return target.resolve()


def create_snapshot(
    unit: Unit,
    out: Path,
    actor: str,
    now: dt.datetime | None = None,
    delivered_as: str | None = None,
) -> Created:
    """Write the snapshot of `unit`'s subtree to `out` (numbered steps in the module doc).

    `delivered_as` names, in the audit entry, where the file went when `out` is only a
    temporary file (the dashboard's download); by default the entry names `out`.
    """
    target = _target(out)
    moment = (now or timezone.now()).replace(microsecond=0)
    created_at = format_time(moment)
    meta = {"unit": unit.path, "created_at": created_at}
    try:
        writer = BundleWriter(target, moment)
    except OSError as exc:
        raise AdminError(f"{target}: cannot write there: {exc.strerror or exc}") from None
    try:
        hosts: list[dict[str, Any]] = []
        reports = 0
        for evidence in subtree_evidence(unit, timezone.localdate(moment)):
            for seq, body in evidence.envelopes:
                writer.add(envelope_name(evidence.record["host_id"], seq), body)
                reports += 1
            hosts.append(evidence.record)
        snapshot = {"format": FORMAT, "version": FORMAT_VERSION, **meta, "hosts": hosts}
        writer.add(SNAPSHOT, canonical_json(snapshot))
        writer.add("hosts.csv", csv_export.hosts_csv(hosts))
        writer.add("findings.csv", csv_export.findings_csv(hosts))
        writer.add("software.csv", csv_export.software_csv(hosts))
        key = current_server_key()
        writer.add("snapshot.html", printable.render(meta, hosts, fingerprint(raw_public_key(key))))
        written = writer.finish(
            {
                **meta,
                "audit_head": _audit_head(),
                "counts": {"hosts": len(hosts), "reports": reports},
            },
            key,
        )
    except BaseException:
        writer.abort()
        raise
    audit.record(
        actor,
        AUDIT_ACTION,
        unit.path,
        {
            "file": delivered_as or str(written.path),
            "sha256": written.sha256,
            "hosts": len(hosts),
            "reports": reports,
            "created_at": created_at,
        },
    )
    return Created(
        written.path,
        unit.path,
        len(hosts),
        reports,
        written.sha256,
        written.fingerprint,
        created_at,
    )
