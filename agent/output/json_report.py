"""The `check --format json` document: the contract other programs (and the server) read."""

from __future__ import annotations

from typing import Any

from agent import __version__
from agent.evaluation import CheckResult
from agent.facts import to_jsonable
from agent.i18n import Lang


def check_document(result: CheckResult, lang: Lang) -> dict[str, Any]:
    summary = result.summary
    policy = result.policy
    return {
        "host": to_jsonable(result.inventory.host),
        "policy": {
            "id": policy.id,
            "version": policy.version,
            "sha256": policy.sha256,
            "title": policy.title.get(lang),
        },
        "checked_at": result.checked_at.isoformat(),
        "agent_version": __version__,
        "lang": lang,
        "findings": [
            {
                "rule": f.rule,
                "category": f.category.value,
                "severity": f.severity.value,
                "status": f.status.value,
                "title": f.title.get(lang),
                "message": f.message.get(lang),
                "evidence": to_jsonable(f.evidence),
                "remedy": f.remedy.get(lang) if f.remedy else None,
            }
            for f in result.findings
        ],
        "summary": {
            "compliant": summary.compliant,
            "total": len(result.findings),
            "passed": summary.passed,
            "failed": summary.failed,
            "errors": summary.errors,
            "not_applicable": summary.not_applicable,
        },
        "errors": dict(result.inventory.errors),
        "duration_seconds": round(result.duration_seconds, 3),
    }
