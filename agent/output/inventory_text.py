"""`inventory --format text`: the facts laid out for a person, one section per collector."""

from __future__ import annotations

from agent.facts import Inventory


def render_inventory(inventory: Inventory) -> str:
    out: list[str] = []
    host = inventory.host
    if host:
        out += [
            f"Host        {host.hostname} ({host.fqdn})",
            f"OS          {host.os_name} {host.os_version}, kernel {host.kernel}",
            f"Machine id  {host.machine_id or '-'}",
            f"IP          {', '.join(host.ip_addresses) or '-'}",
            f"MAC         {', '.join(host.mac_addresses) or '-'}",
            f"Disks       {', '.join(host.disk_serials) or '-'}",
            f"Users       {', '.join(host.users) or '-'}",
            f"Booted      {host.boot_time.isoformat() if host.boot_time else '-'}",
        ]
    if inventory.software is not None:
        out += ["", f"Software ({len(inventory.software)})"]
        out += [f"  {s.name:40} {s.version:30} {s.source}" for s in inventory.software]
    if inventory.processes is not None:
        out += ["", f"Processes ({len(inventory.processes)})"]
        out += [f"  {p.pid:>7} {p.name:24} {p.user:12} {p.exe}" for p in inventory.processes]
    if inventory.services is not None:
        out += ["", f"Services ({len(inventory.services)})"]
        out += [f"  {s.name:40} {s.state:8} {s.start_mode}" for s in inventory.services]
    media = inventory.media
    if media is not None:
        out += ["", f"Removable storage ({len(media.storage)})"]
        for d in media.storage:
            serial = d.serial or "(no serial)"
            out.append(f"  {d.device} {d.vendor_id}:{d.product_id} {serial} {d.vendor} {d.model}")
        out += ["", f"USB devices ({len(media.usb_devices)})"]
        for u in media.usb_devices:
            serial = u.serial or "(no serial)"
            ident = f"{u.vendor_id}:{u.product_id}"
            out.append(f"  {u.bus_path:10} {ident} {u.usb_class.value:12} {serial} {u.product}")
        source = media.history_source or f"unavailable: {media.history_error}"
        out += ["", f"USB history ({len(media.history)}, source: {source})"]
        for e in media.history:
            when = e.time.isoformat() if e.time else "time unknown"
            out.append(
                f"  {when} {e.vendor_id}:{e.product_id} {e.serial or '(no serial)'} {e.product}"
            )
    network = inventory.network
    if network is not None:
        out += ["", "Interfaces"]
        for i in network.interfaces:
            addrs = ", ".join(f"{a.address}/{a.prefix_length}" for a in i.addresses)
            out.append(f"  {i.name:12} {i.kind.value:11} {'up' if i.is_up else 'down':5} {addrs}")
        out += ["", "Default routes"]
        out += [
            f"  {r.destination} via {r.gateway or '-'} dev {r.interface}"
            for r in network.default_routes
        ]
        out += ["", f"DNS servers  {', '.join(network.dns_servers) or '-'}"]
        out += ["", f"External connections ({len(network.connections)})"]
        out += [
            f"  {c.remote_address}:{c.remote_port} {c.process_name} (pid {c.pid})"
            for c in network.connections
        ]
    if inventory.errors:
        out += ["", "Could not collect"]
        out += [f"  {name}: {reason}" for name, reason in inventory.errors.items()]
    return "\n".join(out) + "\n"
