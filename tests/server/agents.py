"""A simulated agent for server tests: a real Ed25519 key, its host id and seq, and the
request bodies the real agent would send, built with `agent.protocol` itself.

Nothing here re-implements the protocol: envelopes come from `encode_envelope`, payloads from
`encode_payload`, state hashes from `state_hash`, proofs and request signatures from `auth`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.facts import AssetFields, HostFacts, to_jsonable
from agent.probes.keytext import decode_public_key, encode_public_key
from agent.protocol import auth
from agent.protocol.envelope import encode_envelope
from agent.protocol.payload import encode_payload, state_hash

POLICY = {"id": "intranet-office", "version": "2026.11", "sha256": "1" * 64}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def finding(rule: str, status: str = "pass", **evidence: Any) -> dict[str, Any]:
    return {
        "rule": rule,
        "category": "software",
        "severity": "high",
        "status": status,
        "title": {"zh": f"规则 {rule}", "en": f"rule {rule}"},
        "message": {"zh": "已检查", "en": "checked"},
        "remedy": {"zh": "安装客户端", "en": "install the client"} if status == "fail" else None,
        "evidence": evidence,
    }


@dataclass
class SimulatedAgent:
    hostname: str = "pc-0417"
    machine_id: str = field(default_factory=lambda: secrets.token_hex(16))
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    host_id: str = ""
    server_key: bytes = b""
    seq: int = 0

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def host_facts(self, **changes: Any) -> dict[str, Any]:
        facts = HostFacts(
            hostname=self.hostname,
            fqdn=f"{self.hostname}.bj.example.gov.cn",
            os_name="UOS",
            os_version="20",
            kernel="5.10.0",
            platform="linux",
            machine_id=self.machine_id,
            mac_addresses=("52:54:00:12:34:56",),
            ip_addresses=("10.11.0.17",),
            disk_serials=("S4EVNF0M123456",),
            users=("zhangsan",),
            boot_time=utc_now().replace(microsecond=0),
            agent_version="0.1.0",
            asset=AssetFields("BJ-2026-0417", "张三", "办公室", "内部", "intranet"),
        )
        return {**to_jsonable(facts), **changes}

    # --- enrollment ------------------------------------------------------------------------

    def enrollment_request(self, token: str) -> dict[str, Any]:
        return {
            "v": 1,
            "token": token,
            "public_key": encode_public_key(self.public_key),
            "host": self.host_facts(),
            "proof": auth.enrollment_proof(self.key, token, self.public_key),
        }

    def enrollment_body(self, token: str) -> bytes:
        return json.dumps(self.enrollment_request(token)).encode()

    def enrolled(self, answer: dict[str, Any]) -> None:
        self.host_id = answer["host_id"]
        self.server_key = decode_public_key(answer["server_public_key"])

    # --- reports ---------------------------------------------------------------------------

    def full_payload(
        self,
        findings: list[dict[str, Any]] | None = None,
        answered: list[str] | None = None,
        host: dict[str, Any] | None = None,
        trigger: str = "schedule",
    ) -> dict[str, Any]:
        findings = [finding("vrv-installed")] if findings is None else findings
        host = self.host_facts() if host is None else host
        inventory: dict[str, Any] = {
            "software": [{"name": "vrv-edp", "version": "5.0"}],
            "services": [{"name": "vrvedp", "state": "running"}],
            "media": {"attached": [], "history": []},
            "network": {"interfaces": [], "connections": []},
        }
        failed = sum(1 for f in findings if f["status"] == "fail")
        return {
            "v": 1,
            "kind": "full",
            "created_at": "2026-11-27T08:00:00Z",
            "trigger": trigger,
            "state_hash": state_hash(host, findings, inventory),
            "policy": dict(POLICY),
            "summary": {
                "compliant": failed == 0,
                "passed": sum(1 for f in findings if f["status"] == "pass"),
                "failed": failed,
                "errors": 0,
                "not_applicable": 0,
            },
            "answered_commands": answered or [],
            "host": host,
            "findings": findings,
            "inventory": inventory,
            "errors": {},
        }

    def heartbeat_payload(self, state: str, answered: list[str] | None = None) -> dict[str, Any]:
        return {
            "v": 1,
            "kind": "heartbeat",
            "created_at": "2026-11-27T08:00:00Z",
            "trigger": "schedule",
            "state_hash": state,
            "policy": dict(POLICY),
            "summary": {
                "compliant": True,
                "passed": 1,
                "failed": 0,
                "errors": 0,
                "not_applicable": 0,
            },
            "answered_commands": answered or [],
        }

    def envelope(
        self,
        payload: dict[str, Any] | bytes,
        *,
        seq: int | None = None,
        sent_at: dt.datetime | None = None,
        compress: bool = True,
    ) -> bytes:
        """A signed request body; without `seq` the next one (as the real agent counts)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        data = payload if isinstance(payload, bytes) else encode_payload(payload)
        return encode_envelope(
            self.key, self.host_id, seq, sent_at or utc_now(), data, compress=compress
        )

    # --- signed GET requests ---------------------------------------------------------------

    def authorization(self, path: str, method: str = "GET", now: dt.datetime | None = None) -> str:
        return auth.request_authorization(self.key, self.host_id, method, path, now or utc_now())
