"""Upserting what a source saw: an agent's full report, or one imported file.

Each call takes the source's whole current view (a full report's neighbour list, a whole
lease file) and makes the rows say it: devices are created the first time their MAC is seen
in the unit and have their times and last IP moved on; the source's sighting of each is
created or updated; the source's sightings that its new view no longer names are kept, as
history, but no longer `current`. Nothing is written per report beyond that, and a heartbeat
writes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.accounts.models import Unit
from server.fleet.models import Host
from server.lib.mac_address import is_device_mac, normalise_mac
from server.lib.storable import clean_text
from server.sightings.models import (
    ADDRESS_LENGTH,
    TEXT_LENGTH,
    Device,
    ImportFormat,
    Sighting,
    SourceKind,
)
from server.sightings.vendors import vendor_of

CHUNK = 500  # values per IN (...) list and per bulk statement
MAX_AGENT_ENTRIES = 256  # what the payload schema allows


@dataclass(frozen=True)
class Seen:
    """One device as one source saw it."""

    mac: str  # normalised
    ip: str = ""
    where: str = ""  # the interface it was seen on, or the switch port
    vlan: str = ""
    name: str = ""  # the client hostname a lease names
    state: str = ""
    at: dt.datetime | None = None  # when the source last saw it, if it says


@dataclass(frozen=True)
class Recorded:
    devices: int  # distinct devices in this view
    new_devices: int


def device_mac(text: str) -> str | None:
    """A MAC that names one network card, normalised, or None (group, zero, not a MAC)."""
    mac = normalise_mac(text)
    if mac is None or not is_device_mac(mac) or int(mac[:2], 16) & 1:
        return None
    return mac


def _ip(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(clean_text(value, ADDRESS_LENGTH).split("%", 1)[0]))
    except ValueError:
        return ""


def agent_view(inventory: Any) -> list[Seen] | None:
    """The neighbours a (validated) full report's inventory names, one per MAC (its IPv4
    address preferred), or None when the report carries no neighbour list at all (an older
    agent, or the collector failed): then nothing is known and nothing changes.

    The values are the agent's and hostile: each MAC is normalised and checked again here.
    """
    section = inventory.get("neighbours") if isinstance(inventory, Mapping) else None
    if not isinstance(section, Mapping) or not isinstance(section.get("entries"), list):
        return None
    found: dict[str, Seen] = {}
    for entry in section["entries"][:MAX_AGENT_ENTRIES]:
        if not isinstance(entry, Mapping):
            continue
        mac = device_mac(clean_text(entry.get("mac"), 32))
        ip = _ip(entry.get("address"))
        if mac is None or not ip:
            continue
        seen = Seen(
            mac=mac,
            ip=ip,
            where=clean_text(entry.get("interface"), 64),
            state=clean_text(entry.get("state"), 32),
        )
        previous = found.get(mac)
        if previous is None or (":" in previous.ip and ":" not in ip):
            found[mac] = seen
    return list(found.values())


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for first in range(0, len(values), CHUNK):
        yield values[first : first + CHUNK]


def _devices(unit: Unit, view: Sequence[Seen], at: dt.datetime) -> tuple[dict[str, Device], int]:
    """The unit's Device of every MAC in `view`, created where missing, times moved on."""
    macs = sorted({seen.mac for seen in view})
    devices: dict[str, Device] = {}
    for chunk in _chunks(macs):
        devices.update((d.mac, d) for d in Device.objects.filter(unit=unit, mac__in=chunk))
    missing = [mac for mac in macs if mac not in devices]
    if missing:
        first_ips = {seen.mac: seen.ip for seen in reversed(view)}
        Device.objects.bulk_create(
            [
                Device(
                    unit=unit,
                    mac=mac,
                    vendor=vendor_of(mac)[:TEXT_LENGTH],
                    last_ip=first_ips.get(mac, ""),
                    first_seen=at,
                    last_seen=at,
                )
                for mac in missing
            ],
            batch_size=CHUNK,
            ignore_conflicts=True,  # another report may create the same device at once
        )
        for chunk in _chunks(missing):
            devices.update((d.mac, d) for d in Device.objects.filter(unit=unit, mac__in=chunk))
    changed: dict[int, Device] = {}
    for seen in view:
        device = devices[seen.mac]
        when = min(seen.at or at, at)
        if when > device.last_seen or (when == device.last_seen and seen.ip != device.last_ip):
            device.last_seen = when
            device.last_ip = seen.ip or device.last_ip
            changed[device.pk] = device
        if when < device.first_seen:
            device.first_seen = when
            changed[device.pk] = device
    Device.objects.bulk_update(
        list(changed.values()), ["first_seen", "last_seen", "last_ip"], batch_size=CHUNK
    )
    return devices, len(missing)


def _record(
    unit: Unit,
    view: Sequence[Seen],
    at: dt.datetime,
    existing: dict[int, Sighting],
    template: dict[str, Any],
) -> Recorded:
    devices, new = _devices(unit, view, at)
    creates: list[Sighting] = []
    updates: dict[int, Sighting] = {}
    named: set[int] = set()
    for seen in view:
        device = devices[seen.mac]
        named.add(device.pk)
        when = min(seen.at or at, at)
        fields = {
            "ip": seen.ip,
            "where": seen.where[:TEXT_LENGTH],
            "vlan": seen.vlan[:16],
            "name": seen.name[:TEXT_LENGTH],
            "state": seen.state[:32],
            "current": True,
        }
        sighting = existing.get(device.pk)
        if sighting is None:
            creates.append(
                Sighting(
                    device=device,
                    first_seen=when,
                    last_seen=when,
                    updated_at=at,
                    **template,
                    **fields,
                )
            )
            existing[device.pk] = creates[-1]
            continue
        for name, value in fields.items():
            setattr(sighting, name, value)
        sighting.last_seen = max(sighting.last_seen, when)
        sighting.first_seen = min(sighting.first_seen, when)
        sighting.updated_at = at
        updates[sighting.pk] = sighting
    gone = [s for device_pk, s in existing.items() if device_pk not in named and s.current and s.pk]
    for sighting in gone:
        sighting.current = False
        sighting.updated_at = at
        updates[sighting.pk] = sighting
    Sighting.objects.bulk_create(creates, batch_size=CHUNK)
    Sighting.objects.bulk_update(
        list(updates.values()),
        [
            "ip",
            "where",
            "vlan",
            "name",
            "state",
            "current",
            "first_seen",
            "last_seen",
            "updated_at",
        ],
        batch_size=CHUNK,
    )
    return Recorded(devices=len(named), new_devices=new)


def record_agent_view(host: Host, view: Sequence[Seen], at: dt.datetime) -> Recorded:
    """`host`'s neighbours as of its newest full report (made at `at`), in its unit."""
    existing = {s.device_id: s for s in Sighting.objects.filter(host=host)}
    template = {"kind": SourceKind.AGENT, "host": host}
    return _record(host.unit, view, at, existing, template)


def record_import_view(
    unit: Unit, import_format: ImportFormat, source: str, view: Sequence[Seen], at: dt.datetime
) -> Recorded:
    """The devices one imported file names; `source` names where the file comes from, so that
    importing that source's next file updates the same sightings."""
    existing = {
        s.device_id: s
        for s in Sighting.objects.filter(host__isnull=True, source=source, device__unit=unit)
    }
    template = {"kind": SourceKind.IMPORT, "source": source, "import_format": import_format}
    return _record(unit, view, at, existing, template)
