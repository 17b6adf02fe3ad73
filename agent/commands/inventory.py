"""`custos-agent inventory`: every fact, no judgement."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from agent.collectors import collect_inventory
from agent.collectors.base import CollectContext
from agent.config import load_config
from agent.facts import to_jsonable
from agent.i18n import choose_lang
from agent.output.json_stream import write_json
from agent.platforms import current_platform


def run_inventory(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    now = dt.datetime.now(dt.timezone.utc)
    ctx = CollectContext(platform=current_platform(), asset=config.asset, now=now)
    inventory = collect_inventory(ctx)
    if args.format == "json":
        write_json(to_jsonable(inventory))
    else:
        from agent.output.inventory_text import render_inventory

        sys.stdout.write(render_inventory(inventory, choose_lang(args.lang, config.lang)))
    return 0
