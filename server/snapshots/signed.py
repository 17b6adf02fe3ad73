"""What a host's signed full report says, in the shape a snapshot shows it.

Both sides use these functions: `create` to take the inventory parts of a host record (the
software list, USB history, internet evidence) out of the newest full report, and `verify`
to recompute, from the envelope the agent signed, everything the snapshot claims the agent
said: identity and asset fields, policy, every per-rule result, those inventory parts, and
the compliance state the results add up to (`state`, one definition for both sides).
The per-rule results in a snapshot come from the database (what the dashboard shows), so
comparing them with this projection catches a server that misstates what its agents sent.

Payload strings are cleaned exactly as ingest cleaned them before storing (`clean_json`):
a NUL the agent sent is not in the database, and must not count as a difference. Payloads
are parsed JSON, so objects are checked as `dict`. Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.protocol.compliance import compliance_state
from agent.protocol.envelope import Envelope, load_json_object
from server.fleet.identity import identity_from
from server.lib.required_software import required_software_state
from server.lib.storable import clean_json
from server.snapshots.document import UNKNOWN

MAX_ROWS = 1000  # per list per host: a report listing thousands of devices stays readable
SOFTWARE_KEYS = ("name", "version", "publisher")
USB_HISTORY_KEYS = (
    "time",
    "last_seen",
    "vendor_id",
    "product_id",
    "serial",
    "manufacturer",
    "product",
    "usb_class",
    "source",
)
STORAGE_KEYS = ("device", "vendor_id", "product_id", "serial", "vendor", "model", "bus")
IDENTITY_FIELDS = (
    "hostname",
    "fqdn",
    "platform",
    "os_name",
    "os_version",
    "ip_addresses",
    "mac_addresses",
    "disk_serials",
    "machine_number",
    "responsible_person",
    "department",
    "classification",
    "purpose",
)
RESULT_FIELDS = (
    "rule",
    "category",
    "severity",
    "status",
    "title",
    "message",
    "remedy",
    "installed",
    "running",
)


def payload_of(envelope: Envelope) -> dict[str, Any]:
    """The envelope's payload as ingest stored it: strict JSON, strings made storable.

    `clean_json` refuses non-finite numbers (here refused by the parser already) and
    removes NUL characters and lone surrogates, which in strict JSON can only come from a
    \\u escape (it has no raw control characters, and UTF-8 cannot encode a surrogate). Real
    agents write UTF-8 and send no such escape, so the walk over every value, which cost
    more than everything else a snapshot does with a report, is skipped for them.
    """
    data = envelope.decoded_payload()
    payload = load_json_object(data, "the payload", finite=True)
    if b"\\u" not in data:
        return payload
    cleaned: dict[str, Any] = clean_json(payload, "bad_payload")
    return cleaned


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _local(value: Any) -> dict[str, str]:
    value = value if isinstance(value, dict) else {}
    return {"zh": _text(value.get("zh")), "en": _text(value.get("en"))}


def _rows(value: Any, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects of a list, each cut to `keys` (scalars as they are), at most MAX_ROWS."""
    if not isinstance(value, list):
        return []
    rows = []
    for item in value[:MAX_ROWS]:
        if isinstance(item, dict):
            rows.append({key: _scalar(item.get(key)) for key in keys})
    return rows


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def identity(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The check sheet's identity and asset fields, as ingest reads them into the Host."""
    fields = identity_from(payload.get("host"))
    # getattr rather than .fields(): asdict's deep copy cost more than the rest of a host
    return {name: getattr(fields, name) for name in IDENTITY_FIELDS}


def policy(payload: Mapping[str, Any]) -> dict[str, str]:
    value = payload.get("policy")
    value = value if isinstance(value, dict) else {}
    return {key: _text(value.get(key)) for key in ("id", "version", "sha256")}


def result(finding: Mapping[str, Any]) -> dict[str, Any]:
    """One per-rule result: what LatestFinding keeps of a finding, minus the evidence."""
    category = _text(finding.get("category"))
    installed, running = required_software_state(category, finding.get("evidence"))
    return {
        "rule": _text(finding.get("rule")),
        "category": category,
        "severity": _text(finding.get("severity")),
        "status": _text(finding.get("status")),
        "title": _local(finding.get("title")),
        "message": _local(finding.get("message")),
        "remedy": _local(finding.get("remedy")),
        "installed": installed,
        "running": running,
    }


def results(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    findings = payload.get("findings")
    items = (
        [result(f) for f in findings if isinstance(f, dict)] if isinstance(findings, list) else []
    )
    return sorted(items, key=lambda item: str(item["rule"]))


def state(statuses: Iterable[Any] | None) -> str:
    """A host's state from its per-rule statuses (`compliance_state`, the one definition);
    "unknown" when it has no full report to judge by (`statuses` None)."""
    if statuses is None:
        return UNKNOWN
    return compliance_state(status for status in statuses if isinstance(status, str)).value


def inventory(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Installed software, removable storage (attached and history) and the evidence of the
    internet rules, as far as the report carries them."""
    value = payload.get("inventory")
    value = value if isinstance(value, dict) else {}
    media = value.get("media")
    media = media if isinstance(media, dict) else {}
    findings = payload.get("findings")
    internet = [
        {
            "rule": _text(finding.get("rule")),
            "status": _text(finding.get("status")),
            "evidence": finding.get("evidence"),
        }
        for finding in (findings if isinstance(findings, list) else [])
        if isinstance(finding, dict) and finding.get("category") == "internet"
    ]
    return {
        "software": _rows(value.get("software"), SOFTWARE_KEYS),
        "usb_storage_attached": _rows(media.get("storage"), STORAGE_KEYS),
        "usb_history": _rows(media.get("history"), USB_HISTORY_KEYS),
        "usb_history_source": _text(media.get("history_source")),
        "usb_history_error": _text(media.get("history_error")),
        "internet_evidence": sorted(internet, key=lambda item: item["rule"]),
    }
