"""The list of devices seen on the units' networks: unregistered ones (网内未注册设备), known
infrastructure, or all, for the units a user may see.

Pages query `Device` (one row per MAC per unit), never the sightings as a whole: the count
and the page are one indexed query each, with the registered MACs excluded by subqueries
(`registration.registered_mac_sources`). Only the devices on the page then have their
sightings read, to say where each was seen and whether an agent still sees it.

"Last seen" of a device is the later of when a full report or an import last named it and,
if an agent's latest full report still names it, that agent's latest report: an agent sends
its neighbours only when they change and heartbeats otherwise, and a heartbeat says the
table is unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from server.lib.mac_address import normalise_mac
from server.sightings.models import Device, Sighting, SourceKind
from server.sightings.registration import registered_mac_sources

SHOWS = ("unregistered", "known", "all")
SORTS = {"new": ("-first_seen", "mac"), "seen": ("-last_seen", "mac"), "mac": ("mac", "unit")}
SOURCES_SHOWN = 3


def unregistered(devices: QuerySet[Device]) -> QuerySet[Device]:
    """`devices` that no register knows and no admin marked as known infrastructure."""
    devices = devices.filter(known_as="")
    for macs in registered_mac_sources():
        devices = devices.exclude(mac__in=macs)
    return devices


def shown(devices: QuerySet[Device], show: str) -> QuerySet[Device]:
    if show == "known":
        return devices.exclude(known_as="")
    if show == "all":
        return devices
    return unregistered(devices)


def search(devices: QuerySet[Device], text: str) -> QuerySet[Device]:
    """By MAC (any notation, or its first bytes), IP address (or its start) or vendor."""
    text = text.strip()
    if not text:
        return devices
    mac = normalise_mac(text)
    if mac is not None:
        return devices.filter(mac=mac)
    prefix = text.lower().replace("-", ":")
    return devices.filter(
        Q(mac__startswith=prefix) | Q(last_ip__startswith=text) | Q(vendor__icontains=text)
    )


@dataclass(frozen=True)
class Source:
    kind: str  # SourceKind
    label: str  # host name or the import's source name
    host_id: str  # for a link to the host, "" for imports
    ip: str
    where: str  # interface or port
    vlan: str
    name: str  # a lease's client hostname
    last_seen: dt.datetime
    current: bool


@dataclass
class Row:
    device: Device
    last_seen: dt.datetime
    still_seen: bool  # an agent's latest full report names it
    sources: list[Source] = field(default_factory=list)
    more_sources: int = 0
    names: list[str] = field(default_factory=list)  # client hostnames the leases give


def rows_for(devices: list[Device]) -> list[Row]:
    """The page's devices with their sources, in three queries whatever their number: per
    device the count of sources and the newest report of an agent that still sees it, the
    SOURCES_SHOWN most recent sources (a gateway is seen by every PC of its unit), and the
    client hostnames leases give."""
    ids = [device.pk for device in devices]
    sightings = Sighting.objects.filter(device__in=ids)
    still = Q(kind=SourceKind.AGENT, current=True)
    stats = {
        row["device_id"]: row
        for row in sightings.values("device_id").annotate(
            sources=Count("id"),
            still=Count("id", filter=still),
            host_seen=Max("host__last_seen", filter=still),
        )
    }
    ranked = (
        sightings.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("device_id")],
                order_by=[F("current").desc(), F("last_seen").desc(), F("pk").asc()],
            )
        )
        .filter(rank__lte=SOURCES_SHOWN)
        .select_related("host")
        .order_by("device_id", "rank")
    )
    shown: dict[int, list[Source]] = defaultdict(list)
    for sighting in ranked:
        host = sighting.host if sighting.kind == SourceKind.AGENT else None
        shown[sighting.device_id].append(
            Source(
                kind=sighting.kind,
                label=(host.hostname or host.host_id) if host else sighting.source,
                host_id=host.host_id if host else "",
                ip=sighting.ip,
                where=sighting.where,
                vlan=sighting.vlan,
                name=sighting.name,
                last_seen=sighting.last_seen,
                current=sighting.current,
            )
        )
    names: dict[int, list[str]] = defaultdict(list)
    for device_id, name in (
        sightings.exclude(name="").values_list("device_id", "name").distinct().order_by("name")
    ):
        if len(names[device_id]) < SOURCES_SHOWN:
            names[device_id].append(name)
    rows = []
    for device in devices:
        stat = stats.get(device.pk, {})
        host_seen = stat.get("host_seen")
        row = Row(
            device,
            max(device.last_seen, host_seen) if host_seen else device.last_seen,
            still_seen=bool(stat.get("still")),
            sources=shown[device.pk],
            more_sources=max(0, stat.get("sources", 0) - len(shown[device.pk])),
            names=names[device.pk],
        )
        rows.append(row)
    return rows
