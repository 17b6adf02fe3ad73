"""An admin says what a device is: infrastructure the unit knows (a gateway, a switch, a
printer, a server), so it leaves the list of unregistered devices; or takes that back.
Both are audit-logged with the device's MAC, unit and what was said."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from server.accounts import audit
from server.errors import AdminError
from server.sightings.models import TEXT_LENGTH, Device, KnownKind


def mark_known(device: Device, kind: str, note: str, actor: str, now: dt.datetime) -> Device:
    try:
        known = KnownKind(kind)
    except ValueError:
        raise AdminError(
            f"{kind!r} is not a kind of device: one of {', '.join(KnownKind.values)}"
        ) from None
    note = " ".join(note.split())[:TEXT_LENGTH]
    with transaction.atomic():
        before = {"known_as": device.known_as, "note": device.known_note}
        device.known_as, device.known_note = known.value, note
        device.known_by, device.known_at = actor[:TEXT_LENGTH], now
        device.save(update_fields=["known_as", "known_note", "known_by", "known_at"])
        audit.record(
            actor,
            "sightings.mark_known",
            f"device:{device.mac}",
            {"unit": device.unit.path, "kind": known.value, "note": note, "before": before},
            at=now,
        )
    return device


def unmark(device: Device, actor: str, now: dt.datetime) -> Device:
    with transaction.atomic():
        before = {"known_as": device.known_as, "note": device.known_note}
        device.known_as = device.known_note = ""
        device.known_by, device.known_at = actor[:TEXT_LENGTH], now
        device.save(update_fields=["known_as", "known_note", "known_by", "known_at"])
        audit.record(
            actor,
            "sightings.unmark_known",
            f"device:{device.mac}",
            {"unit": device.unit.path, "before": before},
            at=now,
        )
    return device
