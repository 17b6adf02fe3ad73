"""Storing policies, assigning them to units, and finding the one that applies to a host.

A policy is validated by the agent's own loader before it is stored, so the server never hands
out a policy the agents would refuse. Its YAML text is stored as uploaded: the sha256 agents
report is the hash of exactly those bytes.
"""

from __future__ import annotations

import functools

from django.db import transaction

from agent.errors import PolicyError
from agent.policy.loader import load_policy_bytes
from server.accounts import audit
from server.accounts.models import Unit
from server.accounts.models.units import PATH_SEPARATOR
from server.errors import AdminError
from server.fleet.models import Host, Policy, PolicyAssignment
from server.fleet.models.hosts import DEFAULT_REPORT_INTERVAL


def effective_assignment(unit: Unit) -> PolicyAssignment | None:
    """The assignment on `unit` or on its nearest ancestor that has one."""
    paths = unit.ancestor_paths()
    assignments = PolicyAssignment.objects.filter(unit__path__in=paths).select_related(
        "policy", "unit"
    )
    return max(assignments, key=lambda a: len(a.unit.path), default=None)


def effective_policy(unit: Unit) -> Policy | None:
    assignment = effective_assignment(unit)
    return assignment.policy if assignment else None


@functools.lru_cache(maxsize=32)
def _interval_of(sha256: str, yaml_text: str) -> int:
    try:
        return load_policy_bytes(
            yaml_text.encode("utf-8"), f"policy {sha256[:12]}"
        ).schedule.interval_seconds
    except PolicyError:  # stored policies were validated; a loader change must not stop ingest
        return DEFAULT_REPORT_INTERVAL


def report_interval(policy: Policy | None) -> int:
    """How often a host under `policy` reports: its schedule, or hourly without a policy."""
    return (
        DEFAULT_REPORT_INTERVAL if policy is None else _interval_of(policy.sha256, policy.yaml_text)
    )


def add_policy(data: bytes, source: str, unit: Unit, actor: str) -> Policy:
    """Validate, store (or find the identical stored copy), and assign to `unit`.

    1. The agent's loader must accept the bytes; its problems become the error message.
    2. (id, version) names one text forever: the same version with other content is refused,
       since agents and snapshots identify a policy by id and version.
    3. The unit's assignment is replaced; hosts whose effective policy changed get its
       report interval, so the silent-host sweep expects reports at the new pace.
    """
    try:
        loaded = load_policy_bytes(data, source)
        text = data.decode("utf-8")
    except PolicyError as exc:
        raise AdminError(f"the policy does not validate:\n{exc}") from None
    except UnicodeDecodeError:
        raise AdminError(f"{source}: a policy file is UTF-8 text") from None
    with transaction.atomic():
        # The command line stores shared policies (no owner): their ids are the server's.
        policy = Policy.objects.filter(
            owner__isnull=True, policy_id=loaded.id, version=loaded.version
        ).first()
        if policy is None:
            policy = Policy.objects.create(
                policy_id=loaded.id, version=loaded.version, yaml_text=text, sha256=loaded.sha256
            )
            audit.record(
                actor, "policy.add", f"{loaded.id} {loaded.version}", {"sha256": loaded.sha256}
            )
        elif policy.sha256 != loaded.sha256:
            raise AdminError(
                f"policy {loaded.id} version {loaded.version} is stored with other content; "
                "give the changed policy a new version"
            )
        PolicyAssignment.objects.update_or_create(unit=unit, defaults={"policy": policy})
        audit.record(
            actor,
            "policy.assign",
            unit.path,
            {"policy": loaded.id, "version": loaded.version, "sha256": loaded.sha256},
        )
        refresh_report_intervals(unit)
    return policy


def refresh_report_intervals(unit: Unit) -> None:
    """Give every host under `unit` the interval of its (possibly new) effective policy."""
    subtree = Unit.objects.filter(path=unit.path) | Unit.objects.filter(
        path__startswith=unit.path + PATH_SEPARATOR
    )
    for member in subtree:
        interval = report_interval(effective_policy(member))
        Host.objects.filter(unit=member).exclude(report_interval_seconds=interval).update(
            report_interval_seconds=interval
        )
