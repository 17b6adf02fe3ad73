"""`inventory --format text`: the facts laid out for a person, one section per collector.

Headings and labels follow the language (`--lang`, the config, the locale); the facts
themselves (names, versions, addresses) are shown as the system reports them.
"""

from __future__ import annotations

from agent.facts import Inventory
from agent.i18n import Lang, text, word
from agent.output.columns import labelled


def render_inventory(inventory: Inventory, lang: Lang) -> str:
    def say(key: str, **values: object) -> str:
        return text(key, **values).get(lang)

    no_serial = word("inventory.no_serial", lang)
    out: list[str] = []
    host = inventory.host
    if host:
        booted = host.boot_time.isoformat() if host.boot_time else "-"
        os_value = say(
            "inventory.os_value", name=host.os_name, version=host.os_version, kernel=host.kernel
        )
        out += labelled(
            [
                (say("inventory.host"), f"{host.hostname} ({host.fqdn})"),
                (say("inventory.os"), os_value),
                (say("inventory.machine_id"), host.machine_id or "-"),
                (say("inventory.ip"), ", ".join(host.ip_addresses) or "-"),
                (say("inventory.mac"), ", ".join(host.mac_addresses) or "-"),
                (say("inventory.disks"), ", ".join(host.disk_serials) or "-"),
                (say("inventory.users"), ", ".join(host.users) or "-"),
                (say("inventory.booted"), booted),
            ]
        )
    if inventory.software is not None:
        out += ["", say("inventory.software", count=len(inventory.software))]
        out += [
            f"  {s.name:40} {s.version:30} {s.source}" + (f" ({s.owner})" if s.owner else "")
            for s in inventory.software
        ]
    if inventory.processes is not None:
        out += ["", say("inventory.processes", count=len(inventory.processes))]
        out += [f"  {p.pid:>7} {p.name:24} {p.user:12} {p.exe}" for p in inventory.processes]
    if inventory.services is not None:
        out += ["", say("inventory.services", count=len(inventory.services))]
        out += [f"  {s.name:40} {s.state:8} {s.start_mode}" for s in inventory.services]
    media = inventory.media
    if media is not None:
        out += ["", say("inventory.storage", count=len(media.storage))]
        for d in media.storage:
            serial = d.serial or no_serial
            out.append(f"  {d.device} {d.vendor_id}:{d.product_id} {serial} {d.vendor} {d.model}")
        out += ["", say("inventory.usb_devices", count=len(media.usb_devices))]
        for u in media.usb_devices:
            ident = f"{u.vendor_id}:{u.product_id}"
            out.append(
                f"  {u.bus_path:10} {ident} {u.usb_class.value:12} {u.serial or no_serial} "
                f"{u.product}"
            )
        source = media.history_source or say(
            "inventory.history_unavailable", reason=media.history_error
        )
        out += ["", say("inventory.usb_history", count=len(media.history), source=source)]
        for e in media.history:
            when = e.time.isoformat() if e.time else say("inventory.time_unknown")
            out.append(f"  {when} {e.vendor_id}:{e.product_id} {e.serial or no_serial} {e.product}")
    network = inventory.network
    if network is not None:
        out += ["", say("inventory.interfaces")]
        for i in network.interfaces:
            addrs = ", ".join(f"{a.address}/{a.prefix_length}" for a in i.addresses)
            state = say("inventory.up") if i.is_up else say("inventory.down")
            out.append(f"  {i.name:12} {i.kind.value:11} {state:5} {addrs}")
        out += ["", say("inventory.default_routes")]
        out += [
            "  "
            + say(
                "inventory.route",
                destination=r.destination,
                gateway=r.gateway or "-",
                interface=r.interface,
            )
            for r in network.default_routes
        ]
        out += ["", *labelled([(say("inventory.dns"), ", ".join(network.dns_servers) or "-")])]
        out += ["", say("inventory.connections", count=len(network.connections))]
        out += [
            "  "
            + say(
                "inventory.connection",
                remote=f"{c.remote_address}:{c.remote_port}",
                process=c.process_name,
                pid=c.pid,
            )
            for c in network.connections
        ]
    neighbours = inventory.neighbours
    if neighbours is not None:
        out += ["", say("inventory.neighbours", count=len(neighbours.entries))]
        if neighbours.networks == ():
            out.append("  " + say("inventory.neighbours_none_allowed"))
        elif neighbours.networks is not None:
            networks = ", ".join(neighbours.networks)
            out.append("  " + say("inventory.neighbours_scope", networks=networks))
        out += [
            f"  {n.address:39} {n.mac:17} {n.interface:12} {n.state}" for n in neighbours.entries
        ]
        if neighbours.left_out:
            out.append("  " + say("inventory.neighbours_left_out", count=neighbours.left_out))
    if inventory.errors:
        out += ["", say("inventory.errors")]
        out += [f"  {name}: {reason}" for name, reason in inventory.errors.items()]
    return "\n".join(out) + "\n"
