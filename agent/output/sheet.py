"""The self-inspection sheet: what a PC's user or a unit's IT person reads after `check`.

Laid out like the paper check sheets institutions use: identity and asset fields first, then
every item with its result, then what to fix and what could not be checked, then the verdict.
"""

from __future__ import annotations

from agent.evaluation import CheckResult, Finding, Status
from agent.facts import HostFacts
from agent.glossary import CLASSIFICATIONS, PURPOSES, term
from agent.i18n import Lang, text, word
from agent.output.columns import display_width, pad
from agent.problem_text import what_is_wrong
from agent.protocol.compliance import ComplianceState

_MARK = {Status.PASS: "✔", Status.FAIL: "✘", Status.ERROR: "?", Status.NOT_APPLICABLE: "-"}
# The verdict is the PC's state by the one definition (agent.protocol.compliance), so the
# sheet says what the dashboard counts: a PC with rules it could not check is not compliant,
# and not shown a violation it does not have either.
_VERDICTS = {
    ComplianceState.COMPLIANT: "sheet.compliant",
    ComplianceState.NONCOMPLIANT: "sheet.not_compliant",
    ComplianceState.UNCHECKED: "sheet.not_checked",
}


def _identity_rows(host: HostFacts | None, lang: Lang) -> list[tuple[str, str]]:
    if host is None:
        return []
    unset = word("sheet.not_set", lang)
    asset = host.asset
    return [
        (
            word("sheet.host", lang),
            f"{host.hostname}" + (f" ({host.fqdn})" if host.fqdn != host.hostname else ""),
        ),
        (word("sheet.os", lang), f"{host.os_name} {host.os_version} ({host.kernel})"),
        (word("sheet.ip", lang), ", ".join(host.ip_addresses) or "-"),
        (word("sheet.mac", lang), ", ".join(host.mac_addresses) or "-"),
        (word("sheet.disk", lang), ", ".join(host.disk_serials) or "-"),
        (word("sheet.machine_number", lang), asset.machine_number or unset),
        (word("sheet.responsible_person", lang), asset.responsible_person or unset),
        (word("sheet.department", lang), asset.department or unset),
        (
            word("sheet.classification", lang),
            term(CLASSIFICATIONS, asset.classification, lang) or unset,
        ),
        (word("sheet.purpose", lang), term(PURPOSES, asset.purpose, lang) or unset),
    ]


def _status(finding: Finding, lang: Lang) -> str:
    return f"{_MARK[finding.status]} {word(f'status.{finding.status.value}', lang)}"


def _item_lines(findings: tuple[Finding, ...], lang: Lang) -> list[str]:
    """Result, severity and rule title in columns as wide as their widest entry, the agent's
    message on the line below."""
    status_width = max((display_width(_status(f, lang)) for f in findings), default=0) + 2
    severity_width = (
        max(
            (display_width(word(f"severity.{f.severity.value}", lang)) for f in findings), default=0
        )
        + 2
    )
    indent = " " * (2 + status_width + severity_width)
    return [
        f"  {pad(_status(f, lang), status_width)}"
        f"{pad(word(f'severity.{f.severity.value}', lang), severity_width)}{f.title.get(lang)}\n"
        f"{indent}{f.message.get(lang)}"
        for f in findings
    ]


def render_sheet(result: CheckResult, lang: Lang) -> str:
    heading = word("sheet.heading", lang)
    lines = [heading, "=" * display_width(heading)]
    policy = result.policy
    rows = _identity_rows(result.inventory.host, lang)
    rows.append(
        (
            word("sheet.policy", lang),
            f"{policy.title.get(lang)} — {policy.id} {policy.version}"
            f" (sha256 {policy.sha256[:12]})",
        )
    )
    rows.append(
        (
            word("sheet.checked_at", lang),
            result.checked_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %z"),
        )
    )
    label_width = max(display_width(label) for label, _ in rows) + 2
    lines.extend(f"{pad(label, label_width)}{value}" for label, value in rows)

    lines += ["", word("sheet.items", lang)]
    lines.extend(_item_lines(result.findings, lang))

    colon = "：" if lang == "zh" else ": "
    failed = [f for f in result.findings if f.status is Status.FAIL]
    if failed:
        lines += ["", word("sheet.todo", lang)]
        for number, finding in enumerate(failed, 1):
            remedy = (
                finding.remedy.get(lang) if finding.remedy else word("sheet.default_remedy", lang)
            )
            problem = what_is_wrong(finding.category.value, finding.title, finding.evidence)
            message = finding.message.get(lang)
            lines.append(f"  {number}. {problem.get(lang)}")
            if message not in problem.get(lang) and problem.get(lang) not in message:
                lines.append(f"     {word('sheet.evidence', lang)}{colon}{message}")
            lines.append(f"     {word('sheet.remedy', lang)}{colon}{remedy}")
    unchecked = [f for f in result.findings if f.status is Status.ERROR]
    if unchecked:
        # Each with its own advice: it depends on why the check could not run (the finding's
        # remedy, set from the cause by the evaluator). What the source itself said (English
        # OS or command text) is a line of its own, for whoever investigates.
        lines += ["", word("sheet.unchecked", lang)]
        for number, finding in enumerate(unchecked, 1):
            advice = finding.remedy.get(lang) if finding.remedy else word("advice.failed", lang)
            detail = finding.evidence.get("error")
            lines.append(f"  {number}. {finding.title.get(lang)}")
            lines.append(f"     {word('sheet.found', lang)}{colon}{finding.message.get(lang)}")
            if isinstance(detail, str) and detail:
                lines.append(f"     {word('sheet.detail', lang)}{colon}{detail}")
            lines.append(f"     {word('sheet.remedy', lang)}{colon}{advice}")

    summary = result.summary
    verdict_key = _VERDICTS[summary.state]
    verdict = text(
        verdict_key, passed=summary.passed, failed=summary.failed, errors=summary.errors
    ).get(lang)
    lines += ["", f"{word('sheet.result', lang)}{colon}{verdict}"]
    return "\n".join(lines) + "\n"
