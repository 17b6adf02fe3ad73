"""Egress probes across real network namespaces: an office, the outside, and fakes out there.

    office-connected --veth 10.213.1.0/30--+
                                           +-- outside: 10.213.200.1 responder (http 80, tcp 7007,
    office-isolated  --veth 10.213.2.0/30--+            dns 53), 10.213.200.2 a login page,
                                                        10.213.200.3 a responder with another key

Both offices are wired to the outside; only the connected one has a default route to it,
so the isolated one is "an intranet PC without a way out". The probes run inside each office
as `python3 -c` through `ip netns exec`, exactly as an agent would, and print JSON results.
Every address lives inside the namespaces this module creates; nothing touches the host.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.probes.keytext import encode_public_key
from tests.netns import (
    Namespace,
    ResponderProcess,
    link,
    list_namespaces,
    python_env,
    require_netns,
)

pytestmark = pytest.mark.netns

RESPONDER = "10.213.200.1"
LOGIN_PAGE = "10.213.200.2"
IMPOSTOR = "10.213.200.3"
UNROUTABLE_FAST_MS = 1000.0  # "no route" fails at once; a probe timeout here is 3 s

RUN_PROBES = """
import json, sys
from agent.facts import to_jsonable
from agent.policy.model import ProbeSpec
from agent.probes import run_probes
from agent.probes.keytext import decode_public_key
request = json.loads(sys.argv[1])
specs = [
    ProbeSpec(p["id"], p["kind"], p["target"],
              decode_public_key(p["key"]) if p.get("key") else None, p.get("timeout", 3.0))
    for p in request["probes"]
]
print(json.dumps(to_jsonable(run_probes(specs, request["total_timeout"]))))
"""


@dataclass(frozen=True)
class World:
    connected: Namespace
    isolated: Namespace
    outside: Namespace
    policy_key: str  # "ed25519:…" of the real responder


def write_key(path: Path) -> Path:
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def public_key_text(key_file: Path) -> str:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return encode_public_key(raw)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_netns()
    directory = tmp_path_factory.mktemp("netns")
    (directory / "portal").mkdir()
    (directory / "portal" / "index.html").write_text("<h1>请登录 Please log in</h1>\n")
    key_file = write_key(directory / "responder.pem")
    with (
        Namespace("outside") as outside,
        Namespace("office") as connected,
        Namespace("isolated") as isolated,
    ):
        link(connected, outside, "10.213.1.1/30", "10.213.1.2/30")
        link(isolated, outside, "10.213.2.1/30", "10.213.2.2/30")
        for address in (RESPONDER, LOGIN_PAGE, IMPOSTOR):
            outside.add_address("lo", f"{address}/32")
        connected.add_default_route("10.213.1.2")
        for office in (connected, isolated):
            office.set_resolv_conf(f"nameserver {RESPONDER}\n")
        listen = {"http": f"{RESPONDER}:80", "tcp": f"{RESPONDER}:7007", "dns": f"{RESPONDER}:53"}
        impostor_listen = {
            kind: address.replace(RESPONDER, IMPOSTOR) for kind, address in listen.items()
        }
        with (
            ResponderProcess.start(
                key_file, listen, directory / "responder.log", namespace=outside
            ),
            ResponderProcess.start(
                write_key(directory / "impostor.pem"),
                impostor_listen,
                directory / "impostor.log",
                namespace=outside,
            ),
        ):
            outside.popen(
                [
                    sys.executable,
                    "-m",
                    "http.server",
                    "80",
                    "--bind",
                    LOGIN_PAGE,
                    "--directory",
                    str(directory / "portal"),
                ]
            )
            outside.wait_for_tcp(LOGIN_PAGE, 80)
            yield World(connected, isolated, outside, public_key_text(key_file))
    left = set(list_namespaces())
    assert not left & {outside.name, connected.name, isolated.name}


def run_probes_in(
    office: Namespace, probes: list[dict[str, Any]], total: float = 10.0
) -> dict[str, dict[str, Any]]:
    request = json.dumps({"probes": probes, "total_timeout": total})
    completed = office.run(
        [sys.executable, "-c", RUN_PROBES, request], env=python_env(), timeout=60
    )
    return {result["probe_id"]: result for result in json.loads(completed.stdout)}


def responder_probes(key: str, host: str = RESPONDER) -> list[dict[str, Any]]:
    return [
        {"id": "http", "kind": "http", "target": f"http://{host}/probe", "key": key},
        {"id": "tcp", "kind": "tcp", "target": f"{host}:7007", "key": key},
        {"id": "dns-direct", "kind": "dns", "target": f"probe.custos.test@{host}", "key": key},
        {"id": "dns-system", "kind": "dns", "target": "probe.custos.test", "key": key},
    ]


def test_an_office_without_a_route_out_reaches_nothing_and_fails_fast(world: World) -> None:
    results = run_probes_in(world.isolated, responder_probes(world.policy_key))
    assert {probe: result["outcome"] for probe, result in results.items()} == dict.fromkeys(
        results, "unreachable"
    )
    assert set(results) == {"http", "tcp", "dns-direct", "dns-system"}
    for result in results.values():
        assert result["elapsed_ms"] < UNROUTABLE_FAST_MS, result
        assert result["verified"] is False
    assert "unreachable" in results["tcp"]["detail"].lower()


def test_an_office_with_a_route_out_reaches_the_responder_with_evidence(world: World) -> None:
    results = run_probes_in(world.connected, responder_probes(world.policy_key))
    assert {probe: (r["outcome"], r["verified"]) for probe, r in results.items()} == dict.fromkeys(
        ("http", "tcp", "dns-direct", "dns-system"), ("reached", True)
    )
    assert (
        "HTTP 200 OK from 10.213.200.1:80 (server: custos-probe-responder/1)"
        in results["http"]["detail"]
    )
    assert "accepted by 10.213.200.1:7007" in results["tcp"]["detail"]
    assert "DNS server 10.213.200.1:53" in results["dns-direct"]["detail"]
    assert "DNS server 10.213.200.1:53" in results["dns-system"]["detail"]
    assert all(result["elapsed_ms"] > 0 for result in results.values())


def test_a_fake_responder_outside_does_not_count_as_the_internet(world: World) -> None:
    probes = [
        *responder_probes(world.policy_key, host=IMPOSTOR)[:3],
        {
            "id": "login-page",
            "kind": "http",
            "target": f"http://{LOGIN_PAGE}/",
            "key": world.policy_key,
        },
    ]
    results = run_probes_in(world.connected, probes)
    assert {probe: (r["outcome"], r["verified"]) for probe, r in results.items()} == dict.fromkeys(
        ("http", "tcp", "dns-direct", "login-page"), ("unverified", False)
    )
    assert "signed by another key" in results["http"]["detail"]
    assert "does not verify with the policy key" in results["tcp"]["detail"]
    assert "not the responder's JSON" in results["login-page"]["detail"]


def test_without_a_key_the_login_page_alone_would_pass_for_the_internet(world: World) -> None:
    results = run_probes_in(
        world.connected, [{"id": "page", "kind": "http", "target": f"http://{LOGIN_PAGE}/"}]
    )
    assert (results["page"]["outcome"], results["page"]["verified"]) == ("reached", False)
    assert "HTTP 200 OK from 10.213.200.2:80" in results["page"]["detail"]


def test_the_test_network_is_invisible_from_the_root_namespace(world: World) -> None:
    root_links = subprocess.run(
        ["ip", "-o", "link"], capture_output=True, text=True, check=True
    ).stdout
    root_addresses = subprocess.run(
        ["ip", "-o", "address"], capture_output=True, text=True, check=True
    ).stdout
    assert "10.213." not in root_addresses
    inside = world.outside.run(["ip", "-o", "link"]).stdout
    veths = [
        line.split(":")[1].strip().split("@")[0]
        for line in inside.splitlines()
        if "link/ether" in line
    ]
    assert veths
    assert not [name for name in veths if f" {name}@" in root_links or f" {name}:" in root_links]


def test_a_namespace_and_its_processes_are_gone_after_a_failure_inside() -> None:
    require_netns()
    with pytest.raises(RuntimeError, match="boom"), Namespace("doomed") as doomed:
        sleeper = doomed.popen(["sleep", "600"])
        # `ip netns exec` enters the namespace after it has started: on a loaded machine
        # that can be a moment after popen returns.
        deadline = time.monotonic() + 30
        while not doomed.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert doomed.pids()
        raise RuntimeError("boom")
    assert doomed.name not in list_namespaces()
    assert sleeper.poll() is not None
