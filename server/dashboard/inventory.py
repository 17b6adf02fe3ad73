"""What a host's last full report says beyond its findings: removable media, network.

Only the report bytes hold the inventory (the server keeps them verbatim as evidence), so
the host page decodes one report: the newest full one. Everything read here was written by
the agent: values are checked for shape only (lists of objects), passed on as plain data and
escaped by the templates like any other text. Lists are capped so a report that lists
thousands of devices cannot make the page unusable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.protocol.envelope import MAX_PAYLOAD_BYTES, decode_envelope
from agent.protocol.errors import ProtocolError
from server.fleet.models import Host, Report, ReportKind

MAX_ROWS = 500


def records(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else dropped), at most MAX_ROWS."""
    if not isinstance(value, list):
        return []
    return [dict(item) for item in value if isinstance(item, Mapping)][:MAX_ROWS]


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(item) for item in value if isinstance(item, (str, int, float))][:MAX_ROWS]


def _object(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _with_addresses(interfaces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each interface with its addresses as "address/prefix" texts."""
    for interface in interfaces:
        interface["address_texts"] = [
            f"{item.get('address', '')}/{item.get('prefix_length', '')}"
            for item in records(interface.get("addresses"))
        ]
    return interfaces


@dataclass(frozen=True)
class LastState:
    report: Report | None
    unreadable: str = ""  # why the report could not be read, if it could not
    media: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def media_known(self) -> bool:
        return bool(self.media)

    @property
    def media_history(self) -> list[dict[str, Any]]:
        return records(self.media.get("history"))

    @property
    def storage(self) -> list[dict[str, Any]]:
        return records(self.media.get("storage"))

    @property
    def usb_devices(self) -> list[dict[str, Any]]:
        return records(self.media.get("usb_devices"))

    @property
    def network_known(self) -> bool:
        return bool(self.network)

    @property
    def interfaces(self) -> list[dict[str, Any]]:
        return _with_addresses(records(self.network.get("interfaces")))

    @property
    def routes(self) -> list[dict[str, Any]]:
        return records(self.network.get("routes"))

    @property
    def dns_servers(self) -> list[str]:
        return _texts(self.network.get("dns_servers"))

    @property
    def connections(self) -> list[dict[str, Any]]:
        return records(self.network.get("connections"))


def last_full_report(host: Host) -> Report | None:
    return (
        Report.objects.filter(host=host, kind=ReportKind.FULL).order_by("-sent_at", "-seq").first()
    )


def last_state(host: Host) -> LastState:
    report = last_full_report(host)
    if report is None:
        return LastState(None)
    try:
        envelope = decode_envelope(bytes(report.envelope), max_bytes=len(report.envelope))
        payload = json.loads(envelope.decoded_payload(MAX_PAYLOAD_BYTES))
    except (ProtocolError, ValueError) as exc:
        return LastState(report, unreadable=str(exc)[:300])
    inventory = _object(payload.get("inventory")) if isinstance(payload, Mapping) else {}
    errors = _object(payload.get("errors")) if isinstance(payload, Mapping) else {}
    return LastState(
        report,
        media=_object(inventory.get("media")),
        network=_object(inventory.get("network")),
        errors={str(key): str(value) for key, value in errors.items()},
    )
