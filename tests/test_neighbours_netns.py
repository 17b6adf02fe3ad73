"""Devices nobody registered, found in real kernel neighbour tables: several "PCs" on one
bridge talk to each other; two of them run the real agent, enrolled with a real
`custos-server run` that sits on the same LAN; a guest laptop and a printer that run no agent
show up in `custos-server sightings list` as 网内未注册设备, the enrolled PCs do not.

Every namespace, address and MAC exists only inside the namespaces these tests make
(10.214.0.0/24, fd14::/64); the server's SQLite database is read from its data directory.
Nothing is scanned: the PCs only exchange a UDP datagram or two, as office PCs do all day.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import agent_argv, agent_env
from tests.e2e.helpers import ServerDatabase, free_port
from tests.netns import Bridge, Namespace, add_bridge, attach_to_bridge, require_netns
from tests.server.processes import run_server, server_argv, server_env

pytestmark = [pytest.mark.netns, pytest.mark.slow]

UNIT = "浙江省/杭州市/西湖区/邻居测试办"
SERVER_IP = "10.214.0.2"
PC1 = ("02:00:00:14:00:11", "10.214.0.11", "fd14::11")
PC2 = ("02:00:00:14:00:12", "10.214.0.12", "fd14::12")
GUEST = ("00:1b:21:14:00:21", "10.214.0.21", "fd14::21")  # an Intel card, no agent
PRINTER = ("00:1b:a9:14:00:40", "10.214.0.40", "fd14::40")  # a Brother printer
LATECOMER = ("f4:8e:38:14:00:50", "10.214.0.50", "fd14::50")  # a Dell laptop, later
POLICY = """\
id: netns-neighbours
version: "1"
title: {zh: 邻居测试, en: Neighbours test}
schedule: {interval: 1h, jitter: 0s}
internet:
  mode: forbidden
  allowed_networks: [10.214.0.0/24, "fd14::/64"]
  rules:
    - id: one-default-route
      check: default_routes
      max: 1
      severity: high
      title: {zh: 只有一条默认路由, en: One default route}
"""
# One datagram to each address: the kernel resolves it first (ARP, neighbour solicitation).
TALK = (
    "import socket, sys\n"
    "for address in sys.argv[1:]:\n"
    "    family = socket.AF_INET6 if ':' in address else socket.AF_INET\n"
    "    socket.socket(family, socket.SOCK_DGRAM).sendto(b'hello', (address, 9))\n"
)


@pytest.fixture(autouse=True)
def _netns() -> None:
    require_netns()


@dataclass
class Office:
    bridge: Bridge
    pcs: dict[str, Namespace]
    data: Path  # the server's data directory
    url: str
    token: str
    root: Path

    def plug(self, label: str, device: tuple[str, str, str]) -> Namespace:
        namespace = Namespace(label)
        self.pcs[label] = namespace
        mac, ipv4, ipv6 = device
        attach_to_bridge(namespace, self.bridge, [f"{ipv4}/24", f"{ipv6}/64"], mac=mac)
        return namespace

    def talk(self, label: str, *addresses: str) -> None:
        self.pcs[label].run([sys.executable, "-c", TALK, *addresses])

    def agent(self, label: str, *args: str) -> tuple[int, str, str]:
        config = self.root / label / "agent.yaml"
        if not config.exists():
            config.parent.mkdir(parents=True)
            (self.root / label / "policy.yaml").write_text(POLICY, encoding="utf-8")
            config.write_text(
                f"state_dir: {self.root / label / 'state'}\n"
                f"policy: {self.root / label / 'policy.yaml'}\n"
                "asset: {machine_number: " + label + ", responsible_person: 王五}\n",
                encoding="utf-8",
            )
        done = self.pcs[label].run(
            agent_argv("--config", str(config), *args), check=False, env=agent_env(), timeout=180
        )
        return done.returncode, done.stdout, done.stderr

    def unregistered(self) -> dict[str, dict[str, object]]:
        listed = run_server(self.data, "sightings", "list", "--unit", UNIT, "--format", "json")
        assert listed.returncode == 0, listed.stderr
        return {item["mac"]: item for item in json.loads(listed.stdout)}


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    data = tmp_path / "server"
    for args in (("migrate",), ("unit", "add", UNIT)):
        assert run_server(data, *args).returncode == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    added = run_server(data, "policy", "add", str(policy), "--unit", UNIT)
    assert added.returncode == 0, added.stderr
    made = run_server(data, "token", "create", "--unit", UNIT, "--uses", "5")
    assert made.returncode == 0, made.stderr
    port = free_port()
    with Namespace("lan") as lan, Namespace("srv") as srv:
        url, token = f"http://{SERVER_IP}:{port}", made.stdout.strip()
        office = Office(add_bridge(lan), {"srv": srv}, data, url, token, tmp_path)
        attach_to_bridge(srv, office.bridge, [f"{SERVER_IP}/24"], mac="02:00:00:14:00:02")
        log = (tmp_path / "server.log").open("w")
        server = srv.popen(
            server_argv("run", "--host", SERVER_IP, "--port", str(port), "--workers", "1"),
            env=server_env(data, CUSTOS_ALLOWED_HOSTS=SERVER_IP),
            stdout=log.fileno(),
            stderr=log.fileno(),
        )
        try:
            srv.wait_for_tcp(SERVER_IP, port, timeout=60)
            yield office
        finally:
            for label, namespace in office.pcs.items():
                if label != "srv":
                    namespace.close()
            server.terminate()
            log.close()


def test_an_unenrolled_laptop_and_a_printer_show_up_as_unregistered_devices(office: Office) -> None:
    for label, device in (("pc1", PC1), ("pc2", PC2), ("guest", GUEST), ("printer", PRINTER)):
        office.plug(label, device)
    office.talk("pc1", PC2[1], GUEST[1], GUEST[2], PRINTER[1], PC2[2])
    office.talk("pc2", PC1[1], PRINTER[1])
    office.talk("guest", PC1[1])  # the guest talks too: it is in pc1's table either way
    for label in ("pc1", "pc2"):
        status, out, err = office.agent(
            label, "enroll", "--server", office.url, f"--token={office.token}"
        )
        assert status == 0, err
        status, out, err = office.agent(label, "send")
        assert status == 0, err + out

    found = office.unregistered()
    assert PC1[0] not in found and PC2[0] not in found  # enrolled: registered
    guest, printer = found[GUEST[0]], found[PRINTER[0]]
    assert guest["vendor"] == "Intel Corporate" and guest["ip"] == GUEST[1]
    assert printer["vendor"] == "Brother industries, LTD." and printer["ip"] == PRINTER[1]
    assert guest["seen_by"] and guest["still_seen"]
    assert "02:00:00:14:00:02" in found  # the server's own card: a device no agent runs on
    assert set(found) == {GUEST[0], PRINTER[0], "02:00:00:14:00:02"}

    # pc1's table is unchanged (entries only went stale): a heartbeat, nothing rewritten
    database = ServerDatabase(office.data, None)
    sightings = database.count("sightings_sighting")
    status, _, err = office.agent("pc1", "send")
    assert status == 0, err
    kinds = [kind for (kind,) in database.rows("SELECT kind FROM fleet_report ORDER BY id")]
    assert kinds[-1] == "heartbeat"
    assert database.count("sightings_sighting") == sightings

    # a laptop plugged in later that pc1 talks to: the set changed, a full report says so
    office.plug("latecomer", LATECOMER)
    office.talk("pc1", LATECOMER[1])
    status, _, err = office.agent("pc1", "send")
    assert status == 0, err
    kinds = [kind for (kind,) in database.rows("SELECT kind FROM fleet_report ORDER BY id")]
    assert kinds[-1] == "full"
    assert found.keys() < office.unregistered().keys()
    assert office.unregistered()[LATECOMER[0]]["vendor"] == "Dell Inc."
