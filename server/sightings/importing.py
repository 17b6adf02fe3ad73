"""Importing one file of leases or a switch table into a unit: parse, record, audit.

The file's devices are recorded in one transaction together with the audit entry and the
`SightingImport` row, so an import is either wholly there, with its audit entry, or not at
all. Lines that cannot be read are listed (line: reason) and the rest is imported: a lease
file with one damaged line still tells where every other device is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction

from server.accounts import audit
from server.accounts.models import Unit
from server.errors import AdminError
from server.sightings import imports
from server.sightings.models import TEXT_LENGTH, ImportFormat, SightingImport
from server.sightings.recording import record_import_view


@dataclass(frozen=True)
class ImportResult:
    parsed: imports.Parsed
    record: SightingImport | None  # None for a dry run


def source_name(source: str, file_name: str, import_format: ImportFormat) -> str:
    """What the sightings name as "where": the admin's name for the source, else the file's."""
    name = " ".join((source or file_name or import_format).split())
    if not name:
        raise AdminError("name the source of the file (e.g. the DHCP server or the switch)")
    return name[:TEXT_LENGTH]


def import_file(
    unit: Unit,
    import_format: ImportFormat,
    data: bytes,
    *,
    file_name: str,
    source: str,
    actor: str,
    now: dt.datetime,
    dry_run: bool = False,
) -> ImportResult:
    """Raises UnusableFileError (an AdminError) when nothing can be read from the file."""
    import_format = ImportFormat(import_format)
    name = source_name(source, file_name, import_format)
    parsed = imports.parse(import_format, data, now)
    if dry_run:
        return ImportResult(parsed, None)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        recorded = record_import_view(unit, import_format, name, parsed.view, now)
        row = SightingImport.objects.create(
            unit=unit,
            import_format=import_format,
            source=name,
            file_name=file_name[:TEXT_LENGTH],
            sha256=digest,
            rows=len(parsed.view),
            new_devices=recorded.new_devices,
            problems=[str(problem) for problem in parsed.problems],
            imported_by=actor[:TEXT_LENGTH],
            imported_at=now,
        )
        audit.record(
            actor,
            "sightings.import",
            f"unit:{unit.path}",
            {
                "format": import_format.value,
                "source": name,
                "file": file_name[:TEXT_LENGTH],
                "sha256": digest,
                "devices": len(parsed.view),
                "new_devices": recorded.new_devices,
                "problems": parsed.problem_count,
                "import": row.pk,
            },
            at=now,
        )
    return ImportResult(parsed, row)
