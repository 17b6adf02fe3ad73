"""What kind of network path each macOS interface is.

Two sources: `ifconfig -l` names every interface the kernel has, and `networksetup
-listallhardwareports` tells, for the physical ones, what System Settings calls them
("Wi-Fi", "iPhone USB", "USB 10/100/1000 LAN", "Thunderbolt Bridge"). The hardware port
decides where there is one; otherwise the BSD name does, by the conventions of macOS:

    utun*, ipsec*, ppp*, tun*, tap*     VPN (ppp is Apple's L2TP/PPTP client, or a dial-up modem)
    bridge*, vmenet*, awdl*, llw*,      virtual (Internet Sharing and VM bridges, AirDrop's and
    anpi*, ap*, gif*, stf*, feth*         low-latency Wi-Fi links, tunnels, the Wi-Fi hotspot)
    lo*                                 loopback

Hardware ports: "iPhone USB"/"iPad USB" are USB tethering, "Wi-Fi" (and the older "AirPort")
and "Bluetooth PAN" are wireless, names with "Ethernet" or "LAN" and "Thunderbolt N" are wired,
"Thunderbolt Bridge" is virtual (it bridges the Thunderbolt ports).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.facts import InterfaceKind
from agent.platforms.base import InterfaceInfo

NETWORKSETUP_PORTS_ARGV = ("/usr/sbin/networksetup", "-listallhardwareports")
IFCONFIG_LIST_ARGV = ("/sbin/ifconfig", "-l")

_NAME_PREFIXES: tuple[tuple[tuple[str, ...], InterfaceKind, str], ...] = (
    (("utun", "ipsec", "ppp", "tun", "tap"), InterfaceKind.VPN, "tunnel"),
    (("bridge",), InterfaceKind.VIRTUAL, "bridge (Internet Sharing or virtual machines)"),
    (("vmenet",), InterfaceKind.VIRTUAL, "virtual machine network"),
    (("awdl",), InterfaceKind.VIRTUAL, "Apple Wireless Direct Link (AirDrop)"),
    (("llw",), InterfaceKind.VIRTUAL, "low-latency Wi-Fi link"),
    (("anpi",), InterfaceKind.VIRTUAL, "Apple network port interface"),
    (("ap",), InterfaceKind.VIRTUAL, "Wi-Fi access point (Internet Sharing)"),
    (("gif", "stf", "feth"), InterfaceKind.VIRTUAL, "tunnel or fake Ethernet"),
    (("lo",), InterfaceKind.LOOPBACK, "loopback"),
)


@dataclass(frozen=True)
class HardwarePort:
    port: str  # "Wi-Fi", "iPhone USB", ...
    device: str  # "en0"
    mac: str


def parse_hardware_ports(output: str) -> tuple[HardwarePort, ...]:
    """Blocks of `Hardware Port:` / `Device:` / `Ethernet Address:` lines; VLANs are ignored."""
    ports: list[HardwarePort] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        if fields.get("Hardware Port") and fields.get("Device"):
            ports.append(
                HardwarePort(
                    port=fields["Hardware Port"],
                    device=fields["Device"],
                    mac=fields.get("Ethernet Address", ""),
                )
            )
        fields.clear()

    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            flush()
            continue
        if key.strip() == "Hardware Port":
            flush()
        fields[key.strip()] = value.strip()
    flush()
    return tuple(ports)


def _kind_of_port(port: str) -> InterfaceKind:
    lowered = port.lower()
    if lowered in ("iphone usb", "ipad usb"):
        return InterfaceKind.USB_TETHER
    if lowered in ("wi-fi", "airport", "bluetooth pan"):
        return InterfaceKind.WIRELESS
    if lowered == "thunderbolt bridge":
        return InterfaceKind.VIRTUAL
    if "ethernet" in lowered or "lan" in lowered.split() or lowered.startswith("thunderbolt"):
        return InterfaceKind.WIRED
    return InterfaceKind.OTHER


def _info_from_name(name: str) -> InterfaceInfo:
    for prefixes, kind, description in _NAME_PREFIXES:
        if any(name.startswith(prefix) and name[len(prefix) :].isdigit() for prefix in prefixes):
            return InterfaceInfo(kind=kind, description=description)
    return InterfaceInfo(kind=InterfaceKind.OTHER)


def interface_info(
    ifconfig_names: str, hardware_ports: tuple[HardwarePort, ...]
) -> dict[str, InterfaceInfo]:
    """Every interface `ifconfig -l` names, plus hardware ports it did not (e.g. unplugged)."""
    by_device = {port.device: port for port in hardware_ports}
    names = ifconfig_names.split()
    names += [device for device in by_device if device not in names]
    info: dict[str, InterfaceInfo] = {}
    for name in names:
        port = by_device.get(name)
        if port is not None:
            info[name] = InterfaceInfo(kind=_kind_of_port(port.port), description=port.port)
        else:
            info[name] = _info_from_name(name)
    return info
