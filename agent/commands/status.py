"""`custos-agent status [--format json|text]`: what this agent's state directory says.

Reads only; creates and moves nothing (a status query must not change what it reports).
JSON keys: enrolled, host_id, server, spool (reports waiting), last_ack_seq, policy
({"id","version"} or null), quarantined, rejected, last_ack_at.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent.config import load_config
from agent.output.json_stream import write_json
from agent.spool import Spool
from agent.state import StateDir


def status_document(state: StateDir) -> dict[str, Any]:
    enrollment = state.load_enrollment()
    delivery = state.load_delivery()
    policy = state.load_policy_info()
    spool = Spool.of(state)
    return {
        "enrolled": enrollment is not None,
        "host_id": enrollment.host_id if enrollment else None,
        "server": enrollment.server if enrollment else None,
        "spool": spool.count(),
        "last_ack_seq": delivery.last_ack_seq,
        "policy": {"id": policy.id, "version": policy.version} if policy else None,
        "quarantined": spool.quarantined(),
        "rejected": spool.rejected(),
        "last_ack_at": delivery.last_ack_at,
    }


def render_status(document: dict[str, Any]) -> str:
    policy = document["policy"]
    policy_text = f"{policy['id']} {policy['version']}" if policy else "-"
    lines = [
        f"enrolled:      {'yes' if document['enrolled'] else 'no'}",
        f"host id:       {document['host_id'] or '-'}",
        f"server:        {document['server'] or '-'}",
        f"policy:        {policy_text}",
        f"waiting:       {document['spool']}",
        f"last ack:      seq {document['last_ack_seq']} at {document['last_ack_at'] or '-'}",
        f"quarantined:   {document['quarantined']}",
        f"rejected:      {document['rejected']}",
    ]
    return "\n".join(lines) + "\n"


def run_status(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    document = status_document(StateDir(config.state_dir))
    if args.format == "json":
        write_json(document)
    else:
        sys.stdout.write(render_status(document))
    return 0
