"""Personas of machines, as the facts collectors would return them.

`office_pc()` is a compliant intranet PC; tests change one thing with `dataclasses.replace` and
assert that exactly that thing is reported.
"""

from __future__ import annotations

import datetime as dt

from agent.facts import (
    Address,
    AssetFields,
    Connection,
    HostFacts,
    Interface,
    InterfaceKind,
    Inventory,
    MediaEvent,
    MediaFacts,
    NetworkFacts,
    Process,
    Route,
    Service,
    Software,
    StorageDevice,
    UsbClass,
    UsbDevice,
)

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)

REGISTERED_STICK = StorageDevice(
    device="/dev/sdb",
    vendor_id="0781",
    product_id="5567",
    serial="4C530001230521112345",
    vendor="SanDisk",
    model="Cruzer Blade",
    size_bytes=16_008_609_792,
    removable=True,
    bus="usb",
    mounts=("/media/zhangsan/专用盘",),
    labels=("专用盘",),
    filesystems=("vfat",),
    bus_path="2-1",
)
UNREGISTERED_STICK = StorageDevice(
    device="/dev/sdc",
    vendor_id="090c",
    product_id="1000",
    serial="0376019050008522",
    vendor="SMI",
    model="USB DISK",
    size_bytes=32_000_000_000,
    removable=True,
    bus="usb",
)
NO_SERIAL_STICK = StorageDevice(
    device="/dev/sdd",
    vendor_id="1908",
    product_id="0226",
    serial="",
    vendor="Generic",
    model="Mass-Storage",
    size_bytes=8_000_000_000,
    removable=True,
    bus="usb",
)
ANDROID_PHONE = UsbDevice(
    bus_path="1-2",
    vendor_id="2717",
    product_id="ff48",
    serial="a1b2c3d4",
    manufacturer="Xiaomi",
    product="Redmi Note 12",
    usb_class=UsbClass.PHONE_OR_CAMERA,
    interface_classes=("ff/ff/00",),
)


def host_facts(asset: AssetFields | None = None) -> HostFacts:
    return HostFacts(
        hostname="bgs-pc-017",
        fqdn="bgs-pc-017.unit.gov",
        os_name="UnionTech OS Desktop",
        os_version="20",
        kernel="5.10.0-amd64-desktop",
        platform="linux",
        machine_id="0c5e7f7f1c0e4e6c9d5b7e1f2a3b4c5d",
        mac_addresses=("52:54:00:12:34:56",),
        ip_addresses=("10.12.3.17",),
        disk_serials=("S4EVNX0N123456",),
        users=("zhangsan",),
        boot_time=NOW - dt.timedelta(hours=2),
        agent_version="0.1.0",
        asset=asset
        or AssetFields(
            machine_number="BGS-017",
            responsible_person="张三",
            department="办公室",
            classification="内部",
            purpose="intranet",
        ),
    )


WIRED = Interface(
    name="enp3s0",
    kind=InterfaceKind.WIRED,
    is_up=True,
    mac="52:54:00:12:34:56",
    addresses=(Address("ipv4", "10.12.3.17", 24),),
    driver="r8169",
)
LOOPBACK = Interface(
    name="lo",
    kind=InterfaceKind.LOOPBACK,
    is_up=True,
    mac="",
    addresses=(Address("ipv4", "127.0.0.1", 8),),
)
WIFI_DOWN = Interface(
    name="wlp2s0",
    kind=InterfaceKind.WIRELESS,
    is_up=False,
    mac="a0:b1:c2:d3:e4:f5",
    addresses=(),
    driver="iwlwifi",
)
DEFAULT_ROUTE = Route(
    destination="0.0.0.0/0", gateway="10.12.3.1", interface="enp3s0", metric=100, family="ipv4"
)


def office_pc() -> Inventory:
    return Inventory(
        host=host_facts(),
        software=(
            Software(name="vrvedp-client", version="3.2.1", publisher="北信源", source="dpkg"),
            Software(name="libreoffice-writer", version="7.4", publisher="Debian", source="dpkg"),
        ),
        processes=(
            Process(pid=812, name="vrvedp_m", exe="/opt/vrv/bin/vrvedp_m", user="root"),
            Process(pid=1200, name="bash", exe="/usr/bin/bash", user="zhangsan"),
        ),
        services=(
            Service(
                name="vrvedp",
                display_name="VRV EDP agent",
                state="running",
                start_mode="auto",
                source="systemd",
            ),
        ),
        media=MediaFacts(
            storage=(),
            usb_devices=(),
            history=(),
            history_source="journal",
            history_since=NOW - dt.timedelta(days=30),
        ),
        network=NetworkFacts(
            interfaces=(LOOPBACK, WIRED),
            routes=(DEFAULT_ROUTE,),
            dns_servers=("10.12.0.53",),
            connections=(),
        ),
        collected_at=NOW,
        agent_version="0.1.0",
    )


def history_event(
    serial: str, days_ago: float, vendor_id: str = "090c", product_id: str = "1000"
) -> MediaEvent:
    return MediaEvent(
        time=NOW - dt.timedelta(days=days_ago),
        vendor_id=vendor_id,
        product_id=product_id,
        serial=serial,
        product="USB DISK",
        manufacturer="SMI",
        usb_class=UsbClass.MASS_STORAGE,
        source="journal",
        last_seen=NOW - dt.timedelta(days=days_ago) + dt.timedelta(minutes=20),
        bus_path="2-1",
    )


EXTERNAL_CONNECTION = Connection(
    local_address="10.12.3.17",
    local_port=50312,
    remote_address="220.181.38.148",
    remote_port=443,
    pid=4242,
    process_name="chrome",
    protocol="tcp",
)
