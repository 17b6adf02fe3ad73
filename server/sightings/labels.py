"""What the pages call the kinds of known devices, the import formats and the sources."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from server.sightings.models import ImportFormat, KnownKind

KNOWN_LABELS: dict[str, Promise] = {
    KnownKind.GATEWAY: _("gateway or router"),
    KnownKind.SWITCH: _("switch"),
    KnownKind.PRINTER: _("printer"),
    KnownKind.SERVER: _("server"),
    KnownKind.OTHER: _("other known device"),
}
FORMAT_LABELS: dict[str, Promise] = {
    ImportFormat.DHCPD: _("DHCP leases: ISC dhcpd (dhcpd.leases)"),
    ImportFormat.DNSMASQ: _("DHCP leases: dnsmasq (dnsmasq.leases)"),
    ImportFormat.KEA: _("DHCP leases: Kea (kea-leases4.csv)"),
    ImportFormat.WINDOWS_DHCP: _("DHCP leases: Windows DHCP server (exported CSV)"),
    ImportFormat.SWITCH: _("Switch MAC address table (CSV: MAC, port, VLAN)"),
}
SHOW_LABELS: dict[str, Promise] = {
    "unregistered": _("unregistered"),
    "known": _("marked as known"),
    "all": _("all"),
}
SORT_LABELS: dict[str, Promise] = {
    "new": _("newest first seen"),
    "seen": _("last seen"),
    "mac": _("MAC address"),
}
