"""snapshot.html: the snapshot as a printable A4 page, Chinese and English side by side.

Rendered by Django's template engine with autoescaping on, from a template of its own
(`page/snapshot.html`), not through the dashboard's: the page is read offline, months later,
by people who may not read the language the exporting admin chose, so every heading carries
both languages rather than going through gettext. It has no script, no external resource
(styles are inline) and nothing that needs the server to be reachable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine

PAGE_DIR = Path(__file__).resolve().parent / "page"
STATUS_WORDS = {
    "pass": "合格 pass",
    "fail": "不合格 fail",
    "error": "错误 error",
    "not_applicable": "不适用 n/a",
}
NOTICE_WORDS = {"open": "待整改 open", "rechecked": "已复查 re-checked", "closed": "已销号 closed"}


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return Engine(dirs=[str(PAGE_DIR)], autoescape=True, debug=False)


def _notice(notice: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if notice is None:
        return None
    return {**notice, "status_words": NOTICE_WORDS.get(notice["status"], notice["status"])}


def _host_view(host: Mapping[str, Any]) -> dict[str, Any]:
    notices = {item["rule"]: item for item in host["rectifications"]}
    return {
        **host,
        "results": [
            {
                **result,
                "status_words": STATUS_WORDS.get(result["status"], result["status"]),
                "notice": _notice(notices.get(result["rule"])),
            }
            for result in host["results"]
        ],
        "failed": sum(1 for result in host["results"] if result["status"] == "fail"),
    }


def render(meta: Mapping[str, Any], hosts: Sequence[Mapping[str, Any]], fingerprint: str) -> bytes:
    """The page for `hosts`; `meta` carries unit and created_at as in the manifest."""
    template = _engine().get_template("snapshot.html")
    context = Context(
        {
            "meta": meta,
            "hosts": [_host_view(host) for host in hosts],
            "fingerprint": fingerprint,
        },
        autoescape=True,
    )
    return template.render(context).encode("utf-8")
