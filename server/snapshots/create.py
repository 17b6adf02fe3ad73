"""`custos-server snapshot create`: export a unit subtree into one signed snapshot file.

1. Read the subtree's hosts a batch at a time (`contents`). Per host: write its envelopes
   to reports.jsonl (the one archive member open while reading), serialise its record into
   snapshot.json's spool, and hand that line to `render`, which appends the rows derived
   from it (`derived`) to spool files beside the target — in a worker process for a large
   subtree, so that rendering runs beside the database reads.
2. Copy the spools into their members: snapshot.json, the CSVs and the page, each with its
   head, middle (the totals) and tail; members are hashed as they are written.
3. Write the manifest (every member's SHA-256 and size, the server's public key, the counts,
   the head of the audit log) and sign it with the server key; rename the file into place.
4. Record "snapshot.create" in the audit log with the unit and the file's SHA-256, so that a
   snapshot handed to an auditor can later be matched with the export that made it.

Memory holds one batch of hosts; the rest lives in the archive and the spools (temporary
files beside the target, removed at the end), so the size of the subtree costs disk, not
memory.
On PostgreSQL the reads run in one REPEATABLE READ transaction: every batch sees the
database as it was when the export began.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from django.utils import timezone

from agent.protocol.envelope import format_time
from server.accounts import audit
from server.accounts.models import AuditEntry, Unit
from server.errors import AdminError
from server.lib.server_key import current_server_key
from server.snapshots import document, render, workers
from server.snapshots.bundle import (
    REPORTS,
    SNAPSHOT,
    BundleWriter,
    HashingWriter,
    UnverifiableError,
    fingerprint,
    raw_public_key,
)
from server.snapshots.contents import hosts_of, subtree_evidence
from server.snapshots.derived import DERIVED, Derived
from server.snapshots.document import Header, HostLines, Tally

AUDIT_ACTION = "snapshot.create"
SPOOL_BUFFER = 1024 * 1024
PARALLEL_FROM_HOSTS = 600  # fewer are done before a worker would have started


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


@contextlib.contextmanager
def _one_point_in_time() -> Iterator[None]:
    """On PostgreSQL, one snapshot of the database for every query of the export.

    (SQLite's transactions here take the write lock — IMMEDIATE, see server.lib.database —
    which would stop ingest for the whole export, so there each batch reads what is there.)
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Spools:
    """Temporary files beside the target: snapshot.json's lines, and per derived member its
    rows and its sheets, filled by `render` here or in a worker process; removed at the end."""

    def __init__(self, target: Path, parallel: bool) -> None:
        self._files = contextlib.ExitStack()
        self.snapshot: IO[bytes] = self._files.enter_context(
            tempfile.TemporaryFile(dir=target.parent, buffering=SPOOL_BUFFER)  # noqa: SIM115
        )
        self.parts = {
            part: {member.name: self._path(target) for member in DERIVED}
            for part in ("rows", "sheets")
        }
        self._request = {
            part: {name: str(path) for name, path in paths.items()}
            for part, paths in self.parts.items()
        }
        self._worker = workers.Worker.start(render.__name__, self._request) if parallel else None
        self._rendering = contextlib.ExitStack()  # the spools rendered here, if no worker
        self._renderer = (
            None if self._worker else self._rendering.enter_context(render.opened(self._request))
        )

    def _path(self, target: Path) -> Path:
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        os.close(handle)
        path = Path(name)
        self._files.callback(path.unlink, missing_ok=True)
        return path

    def add_host(self, line: bytes) -> None:
        if self._worker is not None and not self._worker.send(line + b"\n"):
            self._worker = None  # gone: `finish` renders every host here instead
        if self._renderer is not None:
            self._renderer.add(line)

    def finish(self, hosts: int) -> None:
        """Every host's parts written (by the worker, or here if it failed) and flushed."""
        if self._renderer is not None:
            self._rendering.close()
            return
        if self._worker is not None and self._worker.answer() == {"hosts": hosts}:
            return
        self.snapshot.flush()
        self.snapshot.seek(0)
        self.snapshot.readline()  # the header
        with render.opened(self._request) as renderer:
            for line in self.snapshot:
                if not line.startswith(document.SUMMARY_OPEN):
                    renderer.add(line.rstrip(b"\n").removesuffix(b","))

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        self._rendering.close()
        self._files.close()


def _copy(out: HashingWriter, spool: IO[bytes]) -> None:
    spool.flush()
    spool.seek(0)
    out.copy(spool)


def _write_derived(
    writer: BundleWriter, member: Derived, spools: _Spools, header: Header, tally: Tally
) -> None:
    with writer.member(member.name) as out:
        out.write(b"".join(member.head(header)))
        with spools.parts["rows"][member.name].open("rb") as rows:
            out.copy(rows)
        out.write(b"".join(member.middle(tally)))
        with spools.parts["sheets"][member.name].open("rb") as sheets:
            out.copy(sheets)
        out.write(b"".join(member.tail()))


def _write_members(
    writer: BundleWriter, unit: Unit, header: Header, today: dt.date, parallel: bool
) -> tuple[Tally, int]:
    """Steps 1 and 2: every member but the manifest; the summary and the report count."""
    spools = _Spools(writer.target, parallel)
    tally = Tally()
    count = 0
    try:
        snapshot = spools.snapshot
        snapshot.write(document.header_line(header))
        lines = HostLines(snapshot.write)
        with writer.member(REPORTS, compress=False) as reports:
            for evidence in subtree_evidence(unit, today):
                record = evidence.record
                line = document.host_json(record)
                lines.add(line)
                spools.add_host(line)
                tally.add(record["state"])
                for seq, body in evidence.envelopes:
                    reports.write(document.report_line(record["host_id"], seq, body))
                    count += 1
        lines.close()
        snapshot.write(document.end_line(tally))
        spools.finish(tally.hosts)
        with writer.member(SNAPSHOT) as out:
            _copy(out, snapshot)
        for member in DERIVED:
            _write_derived(writer, member, spools, header, tally)
    finally:
        spools.close()
    return tally, count


def create_snapshot(
    unit: Unit,
    out: Path,
    actor: str,
    now: dt.datetime | None = None,
    delivered_as: str | None = None,
    parallel: bool | None = None,
) -> Created:
    """Write the snapshot of `unit`'s subtree to `out` (numbered steps in the module doc).

    `delivered_as` names, in the audit entry, where the file went when `out` is only a
    temporary file (the dashboard's download); by default the entry names `out`.
    `parallel`: render the spreadsheets and the page in a worker process (`workers`); by
    default for a large subtree on a machine with a second core. The file is the same.
    """
    target = _target(out)
    moment = (now or timezone.now()).replace(microsecond=0)
    created_at = format_time(moment)
    key = current_server_key()
    header = Header(unit.path, created_at, fingerprint(raw_public_key(key)))
    try:
        writer = BundleWriter(target, moment)
    except OSError as exc:
        raise AdminError(f"{target}: cannot write there: {exc.strerror or exc}") from None
    try:
        with _one_point_in_time():
            if parallel is None:
                parallel = workers.cpus() > 1 and hosts_of(unit).count() >= PARALLEL_FROM_HOSTS
            today = timezone.localdate(moment)
            tally, reports = _write_members(writer, unit, header, today, parallel)
            audit_head = _audit_head()
        written = writer.finish(
            {
                "unit": unit.path,
                "created_at": created_at,
                "audit_head": audit_head,
                "counts": {"reports": reports, **tally.as_json()},
            },
            key,
        )
    except UnverifiableError as exc:
        writer.abort()
        raise AdminError(f"cannot export this subtree: {exc}") from None
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
            "hosts": tally.hosts,
            "reports": reports,
            "created_at": created_at,
        },
    )
    return Created(
        written.path,
        unit.path,
        tally.hosts,
        reports,
        written.sha256,
        written.fingerprint,
        created_at,
    )
