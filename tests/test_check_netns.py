"""`custos-agent check` against real network namespaces: is this "office" PC on the internet?

Each test builds an "office" namespace (where the real agent process runs) and, where needed,
an "outside" one holding the probe responder. Addresses are in 10.213.0.0/16 and exist only
inside these namespaces; nothing is sent anywhere else.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POLICIES, run_agent_json
from tests.netns import Namespace, ResponderProcess, link, python_env, require_netns

pytestmark = [pytest.mark.netns, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _netns() -> None:
    require_netns()


@pytest.fixture(scope="module")
def responder_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    key_file = tmp_path_factory.mktemp("responder") / "responder.pem"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "probe-responder",
            "--key",
            str(key_file),
            "--generate-key",
        ],
        capture_output=True,
        text=True,
        env=python_env(),
        check=True,
    )
    public = next(w for w in made.stdout.split() if w.startswith("ed25519:"))
    return key_file, public


def egress_policy(tmp_path: Path, http_url: str, tcp_target: str, public_key: str) -> Path:
    policy = tmp_path / "egress.yaml"
    policy.write_text(
        f"""
id: netns-egress
version: "1"
title: {{zh: 外联测试, en: Egress test}}
internet:
  mode: forbidden
  allowed_networks: [10.213.0.0/16]
  rules:
    - id: no-internet
      check: probes
      severity: critical
      title: {{zh: 不能访问互联网, en: No internet}}
      total_timeout: 6s
      probes:
        - {{id: http-signed, kind: http, url: "{http_url}", responder_key: "{public_key}", timeout: 2s}}
        - {{id: tcp-signed, kind: tcp, host: {tcp_target.split(":")[0]}, port: {tcp_target.split(":")[1]}, responder_key: "{public_key}", timeout: 2s}}
    - id: one-default-route
      check: default_routes
      max: 1
      severity: high
      title: {{zh: 只有一条默认路由, en: One default route}}
""",
        encoding="utf-8",
    )
    return policy


@pytest.fixture
def office() -> Iterator[Namespace]:
    with Namespace("office") as namespace:
        namespace.set_resolv_conf("nameserver 127.0.0.1\n")
        yield namespace


def check_in(namespace: Namespace, policy: Path) -> tuple[int, dict]:
    """The real agent, run inside `namespace`, checking `policy`; (exit status, JSON)."""
    return run_agent_json(
        "check", "--policy", str(policy), "--format", "json", "--lang", "en",
        prefix=namespace.exec_argv(),
    )  # fmt: skip


def findings(document: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in document["findings"]}


def test_an_office_with_no_route_out_passes(
    office: Namespace, tmp_path: Path, responder_key: tuple[Path, str]
) -> None:
    with Namespace("outside") as outside:
        joined = link(office, outside, "10.213.1.1/30", "10.213.1.2/30")
        outside.add_address(joined.interface_b, "10.213.9.1/32")  # "the internet", not routed
        key_file, public = responder_key
        with ResponderProcess.start(
            key_file,
            {"http": "10.213.9.1:8080", "tcp": "10.213.9.1:7070"},
            tmp_path / "r.log",
            namespace=outside,
        ):
            policy = egress_policy(tmp_path, "http://10.213.9.1:8080/", "10.213.9.1:7070", public)
            status, document = check_in(office, policy)
    assert status == 0, document
    assert document["summary"]["compliant"] is True
    probes = findings(document)["no-internet"]
    assert probes["status"] == "pass"
    assert {p["outcome"] for p in probes["evidence"]["probes"]} == {"unreachable"}


def test_an_office_with_a_route_to_the_outside_fails_with_evidence(
    office: Namespace, tmp_path: Path, responder_key: tuple[Path, str]
) -> None:
    with Namespace("outside") as outside:
        joined = link(office, outside, "10.213.2.1/30", "10.213.2.2/30")
        office.add_default_route(joined.ip_b)
        outside.add_address(joined.interface_b, "10.213.9.1/32")
        key_file, public = responder_key
        with ResponderProcess.start(
            key_file,
            {"http": "10.213.9.1:8080", "tcp": "10.213.9.1:7070"},
            tmp_path / "r.log",
            namespace=outside,
        ) as responder:
            policy = egress_policy(tmp_path, "http://10.213.9.1:8080/", "10.213.9.1:7070", public)
            status, document = check_in(office, policy)
            served = responder.log_lines()
    assert status == 1
    assert document["summary"]["compliant"] is False
    probes = findings(document)["no-internet"]
    assert probes["status"] == "fail"
    by_id = {p["probe"]: p for p in probes["evidence"]["probes"]}
    assert by_id["http-signed"]["outcome"] == "reached" and by_id["http-signed"]["verified"] is True
    assert by_id["tcp-signed"]["outcome"] == "reached" and by_id["tcp-signed"]["verified"] is True
    assert 0 < by_id["http-signed"]["elapsed_ms"] < 2000
    assert "10.213.9.1" in probes["message"]
    assert served, "the responder logged no request"


def test_an_answer_without_a_valid_nonce_signature_is_not_the_internet(
    office: Namespace, tmp_path: Path, responder_key: tuple[Path, str]
) -> None:
    with Namespace("outside") as outside:
        joined = link(office, outside, "10.213.3.1/30", "10.213.3.2/30")
        office.add_default_route(joined.ip_b)
        outside.add_address(joined.interface_b, "10.213.9.1/32")
        # A captive portal: answers every request with 200 and a page, signs nothing.
        (tmp_path / "www").mkdir()
        (tmp_path / "www" / "index.html").write_text("<html>请登录 / please log in</html>")
        outside.popen(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "10.213.9.1",
                "--directory",
                str(tmp_path / "www"),
                "8080",
            ]
        )
        outside.popen(
            [
                sys.executable,
                "-c",
                "import socket,time\ns=socket.create_server(('10.213.9.1',7070))\nwhile True:\n c,_=s.accept(); c.sendall(b'HTTP/1.1 200 OK\\r\\n\\r\\nwelcome\\r\\n'); c.close()",
            ]
        )
        _wait_for_port(office, "10.213.9.1", 8080)
        _wait_for_port(office, "10.213.9.1", 7070)
        policy = egress_policy(
            tmp_path, "http://10.213.9.1:8080/", "10.213.9.1:7070", responder_key[1]
        )
        status, document = check_in(office, policy)
    probes = findings(document)["no-internet"]
    assert probes["status"] == "pass", probes
    assert {p["outcome"] for p in probes["evidence"]["probes"]} == {"unverified"}
    assert "without a valid signature" in probes["message"]
    assert status == 0


def test_a_second_default_route_is_found(
    office: Namespace, tmp_path: Path, responder_key: tuple[Path, str]
) -> None:
    with Namespace("lan") as lan, Namespace("phone") as phone:
        wired = link(office, lan, "10.213.4.1/30", "10.213.4.2/30")
        tether = link(office, phone, "10.213.5.1/30", "10.213.5.2/30")
        office.add_default_route(wired.ip_b)
        office.run(["ip", "route", "add", "default", "via", tether.ip_b, "metric", "50"])
        policy = egress_policy(
            tmp_path, "http://10.213.9.1:8080/", "10.213.9.1:7070", responder_key[1]
        )
        status, document = check_in(office, policy)
    routes = findings(document)["one-default-route"]
    assert status == 1
    assert routes["status"] == "fail"
    assert {(r["gateway"], r["metric"]) for r in routes["evidence"]["default_routes"]} == {
        ("10.213.4.2", 0),
        ("10.213.5.2", 50),
    }


def test_the_bundled_intranet_policy_runs_end_to_end_on_an_isolated_pc(office: Namespace) -> None:
    status, document = run_agent_json(
        "check",
        "--policy",
        str(POLICIES / "intranet-office.yaml"),
        "--format",
        "json",
        "--lang",
        "zh",
        prefix=office.exec_argv(),
    )
    assert status in (0, 1)
    by_category = {f["category"] for f in document["findings"]}
    assert by_category == {"software", "media", "internet", "asset"}
    internet = [f for f in document["findings"] if f["category"] == "internet"]
    probes = [f for f in internet if "probes" in f["evidence"]]
    assert probes and all(f["status"] == "pass" for f in probes), probes
    assert all(p["outcome"] == "unreachable" for f in probes for p in f["evidence"]["probes"])


def _wait_for_port(namespace: Namespace, host: str, port: int) -> None:
    namespace.run(
        [
            sys.executable,
            "-c",
            f"import socket,time\nfor _ in range(100):\n try: socket.create_connection(('{host}',{port}),0.2).close(); break\n except OSError: time.sleep(0.05)\nelse: raise SystemExit(1)",
        ],
        env=python_env(),
    )
