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
from agent.i18n import Lang, choose_lang, text, word
from agent.output.columns import labelled
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


def render_status(document: dict[str, Any], lang: Lang) -> str:
    policy = document["policy"]
    policy_text = f"{policy['id']} {policy['version']}" if policy else "-"
    last_ack = text(
        "agent_status.last_ack_value",
        seq=document["last_ack_seq"],
        at=document["last_ack_at"] or "-",
    ).get(lang)
    rows = [
        (
            "agent_status.enrolled",
            word("answer.yes" if document["enrolled"] else "answer.no", lang),
        ),
        ("agent_status.host_id", document["host_id"] or "-"),
        ("agent_status.server", document["server"] or "-"),
        ("agent_status.policy", policy_text),
        ("agent_status.waiting", str(document["spool"])),
        ("agent_status.last_ack", last_ack),
        ("agent_status.quarantined", str(document["quarantined"])),
        ("agent_status.rejected", str(document["rejected"])),
    ]
    colon = "：" if lang == "zh" else ":"
    lines = labelled([(word(key, lang) + colon, value) for key, value in rows], min_width=15)
    return "\n".join(lines) + "\n"


def run_status(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    document = status_document(StateDir(config.state_dir))
    if args.format == "json":
        write_json(document)
    else:
        sys.stdout.write(render_status(document, choose_lang(args.lang, config.lang)))
    return 0
