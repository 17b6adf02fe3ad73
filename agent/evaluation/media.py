"""Removable media: storage attached now, storage seen in the history, phones and cameras.

A registered device (专用U盘) matches on vendor id + product id + serial, like USBGuard's
`id VID:PID serial "..."` rules. A device without a serial can never be registered: cheap
sticks share made-up serials, so such a device is reported as unregistered and says why.
Serials compare in `agent.usb_serial.normalise_serial` form, so a register entry typed in
lower case, or copied from Windows with its `MSFT30` prefix, matches the stick on every OS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from agent.errors import Cause
from agent.evaluation.common import could_not_check, facts_missing, not_applicable_here
from agent.evaluation.findings import Finding, Status
from agent.facts import Inventory, MediaEvent, StorageDevice, UsbClass, UsbDevice
from agent.glossary import MEDIA_HISTORY_SOURCES, term
from agent.i18n import LocalText, join, text
from agent.policy.model import (
    Category,
    MediaCheck,
    MediaMode,
    MediaRule,
    MediaSection,
    RegisteredDevice,
)
from agent.usb_serial import normalise_serial

CATEGORY = Category.MEDIA


def _key(vendor_id: str, product_id: str, serial: str) -> tuple[str, str, str]:
    return (vendor_id.lower(), product_id.lower(), normalise_serial(serial))


def is_registered(
    registered: Sequence[RegisteredDevice], vendor_id: str, product_id: str, serial: str
) -> bool:
    if not serial.strip():
        return False
    wanted = _key(vendor_id, product_id, serial)
    return any(_key(d.vendor_id, d.product_id, d.serial) == wanted for d in registered)


def describe(name: str, vendor_id: str, product_id: str, serial: str) -> LocalText:
    ident = f"{vendor_id}:{product_id}" if vendor_id or product_id else "?"
    label = f"{name.strip() or '?'} [{ident}"
    if serial.strip():
        return LocalText(zh=f"{label} 序列号 {serial}]", en=f"{label} serial {serial}]")
    no_serial = text("media.no_serial")
    return LocalText(zh=f"{label} {no_serial.zh}]", en=f"{label} {no_serial.en}]")


def _storage_name(device: StorageDevice) -> str:
    return " ".join(part for part in (device.vendor, device.model) if part) or device.device


def _storage_evidence(device: StorageDevice, registered: bool) -> dict[str, object]:
    return {
        "device": device.device,
        "vendor_id": device.vendor_id,
        "product_id": device.product_id,
        "serial": device.serial,
        "has_serial": bool(device.serial.strip()),
        "vendor": device.vendor,
        "model": device.model,
        "size_bytes": device.size_bytes,
        "bus": device.bus,
        "mounts": list(device.mounts),
        "labels": list(device.labels),
        "registered": registered,
    }


def _event_evidence(event: MediaEvent, registered: bool) -> dict[str, object]:
    return {
        "time": event.time.isoformat() if event.time else None,
        "last_seen": event.last_seen.isoformat() if event.last_seen else None,
        "vendor_id": event.vendor_id,
        "product_id": event.product_id,
        "serial": event.serial,
        "has_serial": bool(event.serial.strip()),
        "product": event.product,
        "manufacturer": event.manufacturer,
        "class": event.usb_class.value,
        "source": event.source,
        "registered": registered,
    }


def _violates(mode: MediaMode, registered: bool) -> bool:
    return mode is MediaMode.FORBID or (mode is MediaMode.REGISTERED_ONLY and not registered)


def _attached(rule: MediaRule, section: MediaSection, storage: Sequence[StorageDevice]) -> Finding:
    rows = []
    bad: list[LocalText] = []
    for device in storage:
        registered = is_registered(
            section.registered, device.vendor_id, device.product_id, device.serial
        )
        rows.append(_storage_evidence(device, registered))
        if _violates(section.mode, registered):
            bad.append(
                describe(_storage_name(device), device.vendor_id, device.product_id, device.serial)
            )
    evidence: dict[str, object] = {"mode": section.mode.value, "devices": rows}
    if bad:
        key = (
            "media.forbidden_attached"
            if section.mode is MediaMode.FORBID
            else "media.unregistered_attached"
        )
        return Finding.of(rule, CATEGORY, Status.FAIL, text(key, devices=join(bad)), evidence)
    if not storage:
        return Finding.of(rule, CATEGORY, Status.PASS, text("media.no_storage"), evidence)
    key = "media.allowed" if section.mode is MediaMode.ALLOW else "media.all_registered"
    return Finding.of(rule, CATEGORY, Status.PASS, text(key, count=len(storage)), evidence)


def _history(
    rule: MediaRule, section: MediaSection, inventory: Inventory, now: dt.datetime
) -> Finding:
    media = inventory.media
    if media is None:
        return facts_missing(rule, CATEGORY, "media", inventory)
    since = now - dt.timedelta(seconds=rule.lookback_seconds)
    if media.history_error and not media.history:
        cause = media.history_cause or Cause.FAILED
        message = text("media.history_unavailable", cause=text(f"cause.{cause.value}"))
        failure = {"since": since.isoformat()}
        return could_not_check(rule, CATEGORY, message, failure, cause, media.history_error)
    rows = []
    bad: list[LocalText] = []
    for event in media.history:
        if event.usb_class is not UsbClass.MASS_STORAGE:
            continue
        seen = event.last_seen or event.time
        if seen is not None and seen < since:
            continue
        registered = is_registered(
            section.registered, event.vendor_id, event.product_id, event.serial
        )
        rows.append(_event_evidence(event, registered))
        if _violates(section.mode, registered):
            bad.append(
                describe(
                    event.product or event.manufacturer,
                    event.vendor_id,
                    event.product_id,
                    event.serial,
                )
            )
    evidence: dict[str, object] = {
        "mode": section.mode.value,
        "since": since.isoformat(),
        "source": media.history_source,
        "events": rows,
    }
    since_text = since.date().isoformat()
    if bad:
        message = text("media.history_found", since=since_text, devices=join(bad[:10]))
        return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    source = media.history_source or "-"
    source_words = LocalText(
        zh=term(MEDIA_HISTORY_SOURCES, source, "zh"), en=term(MEDIA_HISTORY_SOURCES, source, "en")
    )
    message = text("media.history_clean", since=since_text, source=source_words)
    return Finding.of(rule, CATEGORY, Status.PASS, message, evidence)


def _phones(rule: MediaRule, devices: Sequence[UsbDevice]) -> Finding:
    phones = [d for d in devices if d.usb_class is UsbClass.PHONE_OR_CAMERA]
    evidence: dict[str, object] = {
        "devices": [
            {
                "bus_path": d.bus_path,
                "vendor_id": d.vendor_id,
                "product_id": d.product_id,
                "serial": d.serial,
                "manufacturer": d.manufacturer,
                "product": d.product,
                "class": d.usb_class.value,
            }
            for d in phones
        ]
    }
    if phones:
        names = join(
            [
                describe(f"{d.manufacturer} {d.product}", d.vendor_id, d.product_id, d.serial)
                for d in phones
            ]
        )
        return Finding.of(
            rule, CATEGORY, Status.FAIL, text("media.phones_found", devices=names), evidence
        )
    return Finding.of(rule, CATEGORY, Status.PASS, text("media.no_phones"), evidence)


def evaluate_media(
    rule: MediaRule, section: MediaSection, inventory: Inventory, platform: str, now: dt.datetime
) -> Finding:
    skipped = not_applicable_here(rule, CATEGORY, platform)
    if skipped:
        return skipped
    if inventory.media is None:
        return facts_missing(rule, CATEGORY, "media", inventory)
    if rule.check is MediaCheck.STORAGE_ATTACHED:
        return _attached(rule, section, inventory.media.storage)
    if rule.check is MediaCheck.STORAGE_HISTORY:
        return _history(rule, section, inventory, now)
    return _phones(rule, inventory.media.usb_devices)
