"""The agent's state directory: what makes this agent this host, and where its reports wait.

    agent_key.pem     Ed25519 private key (PKCS8 PEM, 0600), made at enrollment
    enrollment.json   server URL, host_id, the pinned server key, transport options
    seq               the last seq used; advanced durably BEFORE a report is spooled, so a
                      seq is never used twice, not even across a kill -9
    spool/            one file per report, the exact request body (agent.spool)
    quarantine/       spool files that were not decodable envelopes
    rejected/         reports the server refused, each with a .reason beside it
    delivery.json     last_ack_seq, last_ack_at, last_full_state_hash, last_full_at
    policy.yaml/json  the server-assigned policy (verified and validated), its id/version and
                      the time the server signed it
    commands.json     ids of server commands already executed, until they expire
    lock              serialises seq, spool and delivery updates between `run` and `send`

Every write goes through `agent.durable`. `--state-dir` / CUSTOS_AGENT_STATE / config
`state_dir` choose the directory, so several agents can run side by side.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.durable import LEFTOVER_AGE, remove_leftovers, write_atomic, write_json_atomic
from agent.errors import ConfigError
from agent.probes.keytext import decode_public_key
from agent.protocol.envelope import HOST_ID, format_time, parse_time
from agent.protocol.errors import ProtocolError

log = logging.getLogger(__name__)

if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


KEY_FILE = "agent_key.pem"
ENROLLMENT_FILE = "enrollment.json"
SEQ_FILE = "seq"
SPOOL_DIR = "spool"
QUARANTINE_DIR = "quarantine"
REJECTED_DIR = "rejected"
DELIVERY_FILE = "delivery.json"
POLICY_FILE = "policy.yaml"  # the name `custos-agent check` looks for (commands.check)
POLICY_INFO_FILE = "policy.json"
COMMANDS_FILE = "commands.json"
LOCK_FILE = "lock"
_SEQ_IN_NAME = re.compile(r"^(\d{20})-")


@dataclass(frozen=True)
class Enrollment:
    """What enrollment established; the transport options are those given to `enroll`."""

    server: str
    host_id: str
    server_public_key: str  # "ed25519:<base64>", pinned: policies and commands must verify
    enrolled_at: str
    unit: str = ""
    report_interval_seconds: int | None = None
    ca_bundle: str | None = None
    pin_sha256: str | None = None
    proxy: str | None = None

    def server_key(self) -> bytes:
        return decode_public_key(self.server_public_key)


@dataclass(frozen=True)
class Delivery:
    """What the server has acknowledged; decides full report versus heartbeat."""

    last_ack_seq: int = 0
    last_ack_at: str | None = None
    last_full_state_hash: str | None = None  # None: the next report must be full
    last_full_at: str | None = None


@dataclass(frozen=True)
class PolicyInfo:
    id: str
    version: str
    sha256: str
    issued_at: str | None = None  # when the server signed it; an older one is a rollback

    def issued_time(self) -> dt.datetime | None:
        try:
            return parse_time(self.issued_at) if self.issued_at else None
        except ProtocolError:
            return None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable agent state: {exc}") from exc


def _load_soft_json(path: Path) -> Any:
    """For files the agent can rebuild (delivery, policy description, commands): a damaged
    one is logged and treated as missing, so it cannot stop the service. The worst outcome
    is one extra full report, one policy fetch, or one command run twice."""
    try:
        return _load_json(path)
    except ConfigError as exc:
        log.warning("%s; starting it afresh", exc)
        return None


class StateDir:
    """Typed access to the files of one state directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key_path = root / KEY_FILE
        self.enrollment_path = root / ENROLLMENT_FILE
        self.seq_path = root / SEQ_FILE
        self.spool_dir = root / SPOOL_DIR
        self.quarantine_dir = root / QUARANTINE_DIR
        self.rejected_dir = root / REJECTED_DIR
        self.delivery_path = root / DELIVERY_FILE
        self.policy_path = root / POLICY_FILE
        self.policy_info_path = root / POLICY_INFO_FILE
        self.commands_path = root / COMMANDS_FILE

    def prepare(self) -> None:
        """Create the directories (private to the agent's user) and sweep crash leftovers."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for directory in (self.spool_dir, self.quarantine_dir, self.rejected_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
        for directory in (self.root, self.spool_dir, self.quarantine_dir, self.rejected_dir):
            for path in remove_leftovers(directory, LEFTOVER_AGE):
                log.info("removed %s, left over from an interrupted write", path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise the read-modify-write steps (seq + spool, delivery.json, commands.json)
        between processes of one agent: `send` may run while the service does. Held for
        file operations only, never across a network call."""
        with (self.root / LOCK_FILE).open("a+b") as handle:
            _lock(handle.fileno())
            try:
                yield
            finally:
                _unlock(handle.fileno())

    # --- enrollment and key ----------------------------------------------------------------

    def is_enrolled(self) -> bool:
        return self.enrollment_path.is_file()

    def load_enrollment(self) -> Enrollment | None:
        data = _load_json(self.enrollment_path)
        if data is None:
            return None
        try:
            enrollment = Enrollment(**data)
            enrollment.server_key()
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self.enrollment_path}: not a valid enrollment: {exc}") from exc
        if not HOST_ID.match(enrollment.host_id):
            raise ConfigError(f"{self.enrollment_path}: host_id {enrollment.host_id!r} is invalid")
        return enrollment

    def save_enrollment(self, enrollment: Enrollment) -> None:
        write_json_atomic(self.enrollment_path, asdict(enrollment), mode=0o600)

    def load_private_key(self) -> Ed25519PrivateKey:
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"{self.key_path}: cannot load the agent key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{self.key_path}: not an Ed25519 key")
        return key

    def save_private_key(self, key: Ed25519PrivateKey) -> None:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(self.key_path, pem, mode=0o600)

    # --- seq ---------------------------------------------------------------------------------

    def next_seq(self) -> int:
        """A seq never used before, made durable before the caller uses it."""
        try:
            current = int(self.seq_path.read_text(encoding="ascii").strip() or "0")
        except FileNotFoundError:
            current = 0
        except (OSError, ValueError) as exc:
            # Durable writes make this unlikely; if it happens, continue above every seq any
            # file still names, so that none is reused.
            current = self._highest_known_seq()
            log.warning("%s unreadable (%s); continuing after seq %d", self.seq_path, exc, current)
        current = max(current, 0) + 1
        write_atomic(self.seq_path, f"{current}\n".encode("ascii"), mode=0o600)
        return current

    def _highest_known_seq(self) -> int:
        highest = self.load_delivery().last_ack_seq
        for directory in (self.spool_dir, self.quarantine_dir, self.rejected_dir):
            if directory.is_dir():
                for entry in directory.iterdir():
                    match = _SEQ_IN_NAME.match(entry.name)
                    if match:
                        highest = max(highest, int(match.group(1)))
        return highest

    # --- delivery ----------------------------------------------------------------------------

    def load_delivery(self) -> Delivery:
        data = _load_soft_json(self.delivery_path)
        if not isinstance(data, dict):
            return Delivery()
        known = {k: v for k, v in data.items() if k in Delivery.__dataclass_fields__}
        try:
            return Delivery(**known)
        except TypeError:
            return Delivery()

    def save_delivery(self, delivery: Delivery) -> None:
        write_json_atomic(self.delivery_path, asdict(delivery), mode=0o600)

    # --- the server-assigned policy ----------------------------------------------------------

    def load_policy_info(self) -> PolicyInfo | None:
        data = _load_soft_json(self.policy_info_path)
        if not isinstance(data, dict) or not self.policy_path.is_file():
            return None
        try:
            issued = data.get("issued_at")
            return PolicyInfo(
                str(data["id"]),
                str(data["version"]),
                str(data["sha256"]),
                issued if isinstance(issued, str) else None,
            )
        except KeyError:
            return None

    def store_policy(self, yaml_bytes: bytes, info: PolicyInfo) -> None:
        """The YAML first, its description second: after a crash in between the description
        names the old policy, so the next acknowledgement fetches the new one again."""
        write_atomic(self.policy_path, yaml_bytes, mode=0o644)
        write_json_atomic(self.policy_info_path, asdict(info), mode=0o644)

    # --- commands already executed ------------------------------------------------------------

    def executed_commands(self) -> dict[str, str]:
        """Command id -> its expiry; an expired command can never be sent again (the agent
        refuses expired commands), so expired ids are forgotten and the file stays small."""
        data = _load_soft_json(self.commands_path)
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def record_commands(self, expiries: dict[str, dt.datetime], now: dt.datetime) -> None:
        kept: dict[str, str] = {}
        for command_id, expires in self.executed_commands().items():
            try:
                if parse_time(expires) > now:
                    kept[command_id] = expires
            except ProtocolError:
                continue
        kept.update({k: format_time(v) for k, v in sorted(expiries.items())})
        write_json_atomic(self.commands_path, kept, mode=0o600)
