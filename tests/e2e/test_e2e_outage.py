"""A server outage while agents keep checking and are killed with SIGKILL at random moments:
once the server is back, every report that reached an agent's disk arrives exactly once, in
order, and nothing is quarantined or rejected."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.helpers import (
    AgentProcess,
    ServerProcess,
    SpoolSightings,
    SpoolWatcher,
    read_log,
    wait_for,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]

KILLS_PER_AGENT = 6
LIFE_SECONDS = (0.0, 2.0)  # a random kill comes this long after the life's first check began
WRITE_WINDOW_SECONDS = 0.015  # a targeted kill comes this soon after a seq was allocated
OUTAGE_INTERVAL = 0.3  # check_interval_override while the server is down


def _kill_repeatedly(agent: AgentProcess, rng: random.Random) -> list[str]:
    """Start `run` and SIGKILL it, KILLS_PER_AGENT times: every other time at a random
    moment of its checking, else just after it allocated a seq, while it encodes and writes
    that report (where a kill leaves a gap in seq, or a half-written temporary file).
    What was done, for the test's output."""
    done = []
    for round_ in range(KILLS_PER_AGENT):
        allocated = agent.seq()
        agent.start()
        wait_for(  # interpreter start-up takes long on a busy machine: it is not the point
            f"{agent.name} to allocate a seq",
            lambda: agent.seq() > allocated,  # noqa: B023 - called within this iteration
            timeout=60,
            every=0.001,
        )
        if round_ % 2:
            delay = rng.uniform(0, WRITE_WINDOW_SECONDS)
            time.sleep(delay)
            done.append(f"{delay * 1000:.1f} ms after seq {allocated + 1}")
        else:
            life = rng.uniform(*LIFE_SECONDS)
            time.sleep(life)
            done.append(f"{life:.2f} s after seq {allocated + 1}")
        agent.kill9()
    return done


def _check_delivery(agent: AgentProcess, seen: SpoolSightings, server: ServerProcess) -> str:
    """Assert the outage's outcome for one agent; a line summing it up."""
    last_seq = agent.seq()
    stored = server.database.reports(agent.host_id)
    stored_seqs = [report.seq for report in stored]
    spooled = set(seen.bodies)

    # The random kills let each life spool reports (the targeted ones may not).
    assert len(spooled) >= KILLS_PER_AGENT // 2, sorted(spooled)
    # Received in increasing seq order, each once.
    assert stored_seqs == sorted(set(stored_seqs)), stored_seqs
    # Every report that was ever on disk arrived, as the very bytes that were spooled.
    assert spooled <= set(stored_seqs), sorted(spooled - set(stored_seqs))
    by_seq = {report.seq: report for report in stored}
    for seq, body in seen.bodies.items():
        assert by_seq[seq].envelope == body, f"seq {seq} differs from its spool file"
    for report in stored:
        assert agent.verified(report.envelope).seq == report.seq
    # Nothing the agent did not allocate; the last allocated report arrived.
    assert stored_seqs[0] >= 1 and stored_seqs[-1] == last_seq == max(seen.seq_values)
    # A gap is a seq allocated by a life killed before its report reached the disk.
    gaps = sorted(set(range(1, last_seq + 1)) - set(stored_seqs))
    assert not set(gaps) & spooled, f"spooled but never stored: {sorted(set(gaps) & spooled)}"
    # Writes are atomic: a kill never leaves a corrupt report to set aside.
    assert not seen.set_aside, sorted(seen.set_aside)
    status = agent.status()
    assert (status["spool"], status["quarantined"], status["rejected"]) == (0, 0, 0), status
    assert status["last_ack_seq"] == last_seq
    # A kill in the middle of writing a report leaves a temporary file: never sent.
    leftovers = [p.name for p in (agent.state / "spool").iterdir() if p.name.startswith(".")]
    assert {int(name[1:21]) for name in leftovers} <= set(gaps), leftovers
    return (
        f"{agent.name}: {len(spooled)} report(s) spooled, {len(stored_seqs)} stored, "
        f"seq 1..{last_seq}, gaps (allocated, never on disk) {gaps}, "
        f"temporary files left by kills {leftovers}"
    )


def test_agents_killed_during_an_outage_deliver_every_spooled_report_once_and_in_order(
    server: ServerProcess, make_agent: Callable[[str], AgentProcess]
) -> None:
    seed = random.randrange(2**32)
    print(f"kill timing seed: {seed}")
    server.start()
    token = server.token(uses=2)
    agents = [make_agent("pc-a"), make_agent("pc-b")]
    for agent in agents:
        agent.enroll(server.url, token)
    server.stop()

    with SpoolWatcher(agents) as watcher:
        # The outage: both agents check every 0.3 s, fail to deliver, and are killed.
        for agent in agents:
            agent.write_config(interval=OUTAGE_INTERVAL)
        with ThreadPoolExecutor(max_workers=len(agents)) as pool:
            lives = list(
                pool.map(
                    lambda pair: _kill_repeatedly(pair[1], random.Random(seed + pair[0])),
                    enumerate(agents),
                )
            )
        print(f"kills: {dict(zip([a.name for a in agents], lives, strict=True))}")
        before = {agent.name: agent.seq() for agent in agents}

        # Their last life has a long schedule: after its startup report it only delivers, so
        # no heartbeat is made after the outage (the server thins heartbeats, which would
        # hide whether each arrived). The startup report is spooled before the server is up.
        for agent in agents:
            agent.write_config(interval=3600)
            agent.start()
        wait_for(
            "the startup reports of the last lives to be spooled",
            lambda: all(watcher.highest_spooled(a) > before[a.name] for a in agents),
            timeout=60,
        )

        server.start()
        outage_over = time.monotonic()
        try:
            wait_for(
                "both spools to drain",
                lambda: all(not agent.spool_files() for agent in agents),
                timeout=180,
                every=0.1,
            )
        except BaseException:
            for agent in agents:
                print(f"--- {agent.name} run.log ---\n{read_log(agent.log)}")
            raise
        print(f"spools drained {time.monotonic() - outage_over:.1f} s after the server was up")
        for agent in agents:
            agent.terminate()
    server.stop()

    for agent in agents:
        print(_check_delivery(agent, watcher.sightings[agent.name], server))
