"""JSON on standard output: indented for a person at a terminal, one line for a program."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def write_json(document: Any, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    # The indented form goes through the pure-Python encoder, three times slower: only pay
    # for it when someone reads it.
    indent = 1 if out.isatty() else None
    out.write(json.dumps(document, ensure_ascii=False, indent=indent))
    out.write("\n")
