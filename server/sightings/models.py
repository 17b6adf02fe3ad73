"""Where each MAC address was seen, upserted: a row per device per unit and a row per source.

A `Device` is one MAC seen in one unit's network, with when it was first and last seen and
what an admin said about it (infrastructure known to the unit: a gateway, a printer, a
switch). A `Sighting` is one source's view of it: an agent (its host) or an imported file
(named by the admin, e.g. "核心交换机" or "dhcpd.leases"), with the IP, interface or port and
the times that source saw it. Both are updated in place when the device is seen again, so the
tables grow with the devices on the network, not with the reports: a full report carries its
neighbours only when the set changed, and a heartbeat writes nothing here.

Whether a device is registered is not stored: it is asked at read time
(`server.sightings.registration`), so enrolling a PC, revoking it or adding a roster row takes
effect on the next page view without rewriting devices.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from server.accounts.models import Unit
from server.fleet.models import Host

MAC_LENGTH = 17
ADDRESS_LENGTH = 64
TEXT_LENGTH = 200


class KnownKind(models.TextChoices):
    """What an admin says a device is when marking it as known infrastructure."""

    GATEWAY = "gateway", "gateway"
    SWITCH = "switch", "switch"
    PRINTER = "printer", "printer"
    SERVER = "server", "server"
    OTHER = "other", "other"


class SourceKind(models.TextChoices):
    AGENT = "agent", "agent"
    IMPORT = "import", "import"


class ImportFormat(models.TextChoices):
    DHCPD = "dhcpd", "dhcpd"  # ISC dhcpd's dhcpd.leases
    DNSMASQ = "dnsmasq", "dnsmasq"  # dnsmasq.leases
    KEA = "kea", "kea"  # Kea's memfile lease CSV (kea-leases4.csv)
    WINDOWS_DHCP = "windows-dhcp", "windows-dhcp"  # Get-DhcpServerv4Lease | Export-Csv
    SWITCH = "switch", "switch"  # a switch's MAC address table as CSV: MAC, port, VLAN


class Device(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="network_devices")
    mac = models.CharField(max_length=MAC_LENGTH)  # "aa:bb:cc:dd:ee:ff" (lib.mac_address)
    vendor = models.CharField(max_length=TEXT_LENGTH, blank=True)  # IEEE OUI registry
    last_ip = models.CharField(max_length=ADDRESS_LENGTH, blank=True)
    first_seen = models.DateTimeField()
    # When a full report or an import last named it; a device still in the table of an
    # agent that only sends heartbeats since is "still seen" (`listing.last_seen`).
    last_seen = models.DateTimeField()
    known_as = models.CharField(max_length=16, choices=KnownKind.choices, blank=True)
    known_note = models.CharField(max_length=TEXT_LENGTH, blank=True)
    known_by = models.CharField(max_length=TEXT_LENGTH, blank=True)  # an audit actor
    known_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("unit", "mac"), name="device_once_per_unit"),
        )
        indexes = (
            models.Index(fields=("unit", "known_as", "first_seen"), name="device_unit_known"),
            models.Index(fields=("mac",), name="device_mac"),
        )

    def __str__(self) -> str:
        return f"{self.mac} ({self.unit_id})"


class Sighting(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sightings")
    kind = models.CharField(max_length=8, choices=SourceKind.choices)
    host = models.ForeignKey(
        Host, null=True, blank=True, on_delete=models.CASCADE, related_name="sightings"
    )  # the agent that saw it (kind agent)
    source = models.CharField(max_length=TEXT_LENGTH, blank=True)  # the import's name
    import_format = models.CharField(max_length=16, choices=ImportFormat.choices, blank=True)
    ip = models.CharField(max_length=ADDRESS_LENGTH, blank=True)
    where = models.CharField(max_length=TEXT_LENGTH, blank=True)  # interface, or switch port
    vlan = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=TEXT_LENGTH, blank=True)  # a lease's client hostname
    state = models.CharField(max_length=32, blank=True)  # the neighbour entry's state
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # In the source's latest word: the host's latest full report, the import's latest file.
    current = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("device", "host"),
                condition=Q(host__isnull=False),
                name="sighting_once_per_host",
            ),
            models.UniqueConstraint(
                fields=("device", "source"),
                condition=Q(host__isnull=True),
                name="sighting_once_per_import_source",
            ),
        )
        indexes = (
            models.Index(fields=("host", "current"), name="sighting_host_current"),
            models.Index(fields=("source", "current"), name="sighting_source_current"),
        )

    def __str__(self) -> str:
        return f"{self.device_id} by {self.host_id or self.source}"


class SightingImport(models.Model):
    """One file an admin imported: what, from where, by whom, with what result."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="sighting_imports")
    import_format = models.CharField(max_length=16, choices=ImportFormat.choices)
    source = models.CharField(max_length=TEXT_LENGTH)
    file_name = models.CharField(max_length=TEXT_LENGTH, blank=True)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)  # device rows read from the file
    new_devices = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list)  # lines that could not be read, first 50
    imported_by = models.CharField(max_length=TEXT_LENGTH)
    imported_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.import_format} {self.source} ({self.unit_id})"
