"""One service cycle in-process: learn what the server asks, check, sign, spool, deliver,
follow the server.

`Agent` holds an enrolled agent's working parts (one HTTP client, one platform adapter, the
policy parsed only when its bytes change) and keeps nothing of a cycle once it is spooled.
`custos-agent send` runs one `cycle` (or only a `flush`) and exits; that is also the worker
that `custos-agent run` starts for each cycle (agent.supervisor). A cycle fetches the
assigned policy and pending commands before it evaluates (a broken policy cannot keep its
fix out); when an acknowledgement names yet another policy or a "recheck" command, a check
follows at once, in the same cycle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.checking import run_check
from agent.commands.check import choose_policy
from agent.config import AgentConfig
from agent.delivery import Courier, FlushResult, utc_now
from agent.errors import CustosError, PolicyError, PolicyProblem
from agent.pacing import next_check_delay
from agent.platforms import current_platform
from agent.platforms.base import PlatformAdapter
from agent.policy.loader import load_policy_bytes
from agent.policy.model import Policy
from agent.protocol.documents import Command
from agent.reporting import build_report, encode_report
from agent.spool import Spool, SpoolEntry
from agent.state import Enrollment, StateDir
from agent.transport import Transport, TransportOptions

log = logging.getLogger(__name__)

MAX_FOLLOW_UPS = 3  # checks a single cycle runs for server policies and commands


class NotEnrolledError(CustosError):
    pass


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        state: StateDir,
        enrollment: Enrollment,
        private_key: Ed25519PrivateKey,
        transport: Transport,
        platform: PlatformAdapter,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.config = config
        self.state = state
        self.enrollment = enrollment
        self.private_key = private_key
        self.transport = transport
        self.platform = platform
        self.clock = clock
        self.spool = Spool.of(state, config.spool_max_bytes)
        self.courier = Courier(state, self.spool, transport, enrollment, private_key, clock)
        self._policy: Policy | None = None

    @classmethod
    def open(cls, config: AgentConfig, platform: PlatformAdapter | None = None) -> Agent:
        state = StateDir(config.state_dir)
        enrollment = state.load_enrollment()
        if enrollment is None:
            raise NotEnrolledError(
                f"not enrolled (no {state.enrollment_path}); run: custos-agent enroll "
                "--server URL --token TOKEN"
            )
        state.prepare()
        key = state.load_private_key()
        transport = Transport(enrollment.server, TransportOptions.of(enrollment))
        return cls(config, state, enrollment, key, transport, platform or current_platform())

    def close(self) -> None:
        self.transport.close()

    def policy(self) -> Policy:
        """The policy `check` would use; parsed again only when its bytes changed."""
        path = choose_policy(None, self.config)
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = f"cannot read the file: {exc.strerror or exc}"
            raise PolicyError([PolicyProblem(str(path), 0, "", reason)]) from exc
        if self._policy is None or self._policy.sha256 != hashlib.sha256(data).hexdigest():
            self._policy = load_policy_bytes(data, str(path))
        return self._policy

    def check(self, trigger: str, commands: Sequence[Command] = ()) -> SpoolEntry:
        """One check, signed and spooled. The seq is made durable before the report is
        written, and commands count as executed once their answer is spooled."""
        result = run_check(self.policy(), self.platform, self.config.asset, whole_inventory=True)
        with self.state.locked():
            report = build_report(
                result,
                trigger,
                self.state.load_delivery(),
                answered_commands=[command.id for command in commands],
                full_refresh_days=self.config.full_refresh_days,
                now=self.clock(),
            )
            seq = self.state.next_seq()
            body = encode_report(
                report, self.private_key, self.enrollment.host_id, seq, self.clock()
            )
            entry = self.spool.add(seq, report.kind, report.failing, body)
            if commands:
                self.state.record_commands({c.id: c.expires_at for c in commands}, self.clock())
        log.info(
            "check (%s): seq %d, %s, %s",
            trigger,
            seq,
            report.kind,
            "violations" if report.failing else "no violations",
        )
        return entry

    def flush(self, should_stop: Callable[[], bool] = lambda: False) -> FlushResult:
        return self.courier.flush(should_stop)

    def prepare(self) -> list[Command]:
        """Fetch the assigned policy and the pending commands BEFORE evaluating: a fixed
        policy or a command reaches this agent even when the policy it holds cannot be
        evaluated. When the server cannot be asked, the cycle goes on with the stored policy."""
        if self.courier.fetch_policy() and self.config.policy_file is not None:
            log.warning(
                "the server assigned a new policy, but the config's policy %s takes precedence",
                self.config.policy_file,
            )
        return self.courier.fetch_commands()

    def cycle(self, trigger: str, should_stop: Callable[[], bool] = lambda: False) -> FlushResult:
        """Fetch policy and commands, check (answering the commands), deliver, then follow
        what the acknowledgements ask for (a newer policy, more rechecks)."""
        commands = self.prepare()
        try:
            self.check(trigger, commands)
        except PolicyError as exc:
            if self.config.policy_file is not None or not self.state.policy_path.is_file():
                raise  # the operator's own policy (or the bundled one): exit 2, say why
            # The server's policy is unusable (an older agent accepted it): deliver what
            # waits and retry after a back-off; the server can send a fixed one.
            log.error("the server's policy is unusable, no check this cycle:\n%s", exc)
            result = self.flush(should_stop)
            result.failed, result.failure = True, f"the server's policy is unusable: {exc}"
            return result
        result = self.flush(should_stop)
        delivered, rejected = result.delivered, result.rejected
        for _ in range(MAX_FOLLOW_UPS):
            if result.policy_changed and self.config.policy_file is not None:
                log.warning(
                    "the server assigned a new policy, but the config's policy %s takes precedence",
                    self.config.policy_file,
                )
            new_policy = result.policy_changed and self.config.policy_file is None
            if should_stop() or not (result.commands or new_policy):
                break
            # One check answers every command and already uses a newly stored policy.
            self.check("command" if result.commands else "policy", result.commands)
            result = self.flush(should_stop)
            delivered, rejected = delivered + result.delivered, rejected + result.rejected
        result.delivered, result.rejected = delivered, rejected
        return result

    def schedule(self) -> tuple[float, float] | None:
        """The policy's (interval, jitter) in seconds; None while the policy is unusable."""
        try:
            schedule = self.policy().schedule
        except CustosError:
            return None
        return float(schedule.interval_seconds), float(schedule.jitter_seconds)

    def schedule_delay(self, rng: random.Random) -> float:
        """Seconds until the next scheduled check, when this agent runs in-process."""
        return next_check_delay(self.schedule(), self.config.check_interval_override, rng)
