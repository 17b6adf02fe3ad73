"""A host's identity and asset fields, read out of what the agent sends.

Enrollment and full reports carry the agent's host facts (`agent.facts.HostFacts` as JSON).
Only the fields the server keeps are read; each is cleaned and cut to its column's length, so
an odd value from an agent is stored as far as it is usable and never fails the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from server.lib.storable import clean_text, clean_text_list

ASSET_FIELDS = ("machine_number", "responsible_person", "department", "classification", "purpose")


@dataclass(frozen=True)
class Identity:
    hostname: str = ""
    fqdn: str = ""
    machine_id: str = ""
    platform: str = ""
    os_name: str = ""
    os_version: str = ""
    mac_addresses: list[str] = field(default_factory=list)
    ip_addresses: list[str] = field(default_factory=list)
    disk_serials: list[str] = field(default_factory=list)
    machine_number: str = ""
    responsible_person: str = ""
    department: str = ""
    classification: str = ""
    purpose: str = ""

    def fields(self) -> dict[str, Any]:
        return asdict(self)

    def fields_without_machine_id(self) -> dict[str, Any]:
        """What a full report may update: the machine id stays as enrolled (clone detection)."""
        values = self.fields()
        del values["machine_id"]
        return values


def identity_from(host: Any) -> Identity:
    if not isinstance(host, Mapping):
        return Identity()
    asset = host.get("asset")
    asset = asset if isinstance(asset, Mapping) else {}
    return Identity(
        hostname=clean_text(host.get("hostname"), 255),
        fqdn=clean_text(host.get("fqdn"), 255),
        machine_id=clean_text(host.get("machine_id"), 128),
        platform=clean_text(host.get("platform"), 16),
        os_name=clean_text(host.get("os_name"), 128),
        os_version=clean_text(host.get("os_version"), 128),
        mac_addresses=clean_text_list(host.get("mac_addresses"), 64),
        ip_addresses=clean_text_list(host.get("ip_addresses"), 64),
        disk_serials=clean_text_list(host.get("disk_serials"), 128),
        **{name: clean_text(asset.get(name), 255) for name in ASSET_FIELDS},
    )
