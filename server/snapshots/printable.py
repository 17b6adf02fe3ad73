"""snapshot.html: the snapshot as a printable A4 page, Chinese and English side by side.

The page is a summary table (a row per computer, then the totals by state) followed by one
check sheet per computer with a signature line. It has no script, no external resource
(styles are inline) and nothing that needs the server to be reachable, and every heading
carries both languages: it is read offline, months later, by people who may not read the
language the exporting admin chose.

Written line by line with one escaping function rather than a template engine: a template
rendered per host cost seconds per thousand hosts, and `verify` regenerates the page from
snapshot.json on a laptop without Django. Every line of the page is one table row (or a
fixed piece of markup), because `escape` turns line breaks in a value into character
references; so a difference between the page and snapshot.json is reported by line.

Every value is escaped: `& < > " '` and line breaks; the characters that hide or reorder
text (a right-to-left override in a hostname would otherwise print "fdp.exe" for "exe.pdf")
are shown as "<U+202E>", as on the dashboard (`server.lib.hidden_characters`).
"""

from __future__ import annotations

import re
from typing import Any

from server.lib.hidden_characters import HIDDEN, HIDDEN_CLASS, code_point
from server.snapshots import words
from server.snapshots.document import STATES, Header, Tally
from server.snapshots.fields import at, by_rule, count, objects, rule_of, text

Host = dict[str, Any]

_ESCAPES: dict[int, str] = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&#x27;",
    ord("\n"): "&#10;",
    ord("\r"): "&#13;",
}
_NEEDS_ESCAPING = re.compile("[" + re.escape("".join(map(chr, _ESCAPES))) + HIDDEN_CLASS + "]")


def _shown_code_point(match: re.Match[str]) -> str:
    return f'<span class="hidden-char">{code_point(match.group()).translate(_ESCAPES)}</span>'


def escape(value: Any) -> str:
    """Text for HTML content or a quoted attribute: nothing in it can open markup, break
    the line, or hide or reorder what is printed around it."""
    shown: str = value if type(value) is str else text(value)
    if not _NEEDS_ESCAPING.search(shown):  # most values; translate is the slow path
        return shown
    return HIDDEN.sub(_shown_code_point, shown.translate(_ESCAPES))


def _line(markup: str) -> bytes:
    return (markup + "\n").encode("utf-8", "surrogatepass")


def _lines(markup: str) -> list[bytes]:
    return [_line(line) for line in markup.strip("\n").split("\n")]


_STYLE = """
<style>
@page { size: A4; margin: 15mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  font-size: 9pt; color: #000; }
h1 { font-size: 15pt; margin: 0 0 4pt; }
h2 { font-size: 11pt; margin: 10pt 0 4pt; border-bottom: 1px solid #000; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0 6pt; }
th, td { border: 1px solid #555; padding: 2pt 3pt; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #eee; }
.sheet { page-break-before: always; }
.fail { font-weight: bold; }
.meta td:first-child, .fields th { width: 28%; }
.totals { width: 50%; }
.sign { margin-top: 12pt; }
.sign td { height: 24pt; width: 35%; }
.sign th { width: 15%; }
.small { font-size: 8pt; }
.hidden-char { unicode-bidi: isolate; font-family: monospace; font-size: 7pt;
  border: 1px solid #555; }
</style>
"""

_SUMMARY_HEADINGS = (
    "单位 Unit",
    "机器编号 Machine no.",
    "主机名 Hostname",
    "责任人 Responsible",
    "策略 Policy",
    "合规状态 Compliance",
    "不合格 Failed",
    "未能检查 Not checked",
    "未销号整改 Open rectifications",
)


def head(header: Header) -> list[bytes]:
    """Everything before the summary's rows."""
    unit, fingerprint = escape(header.unit), escape(header.fingerprint)
    headings = "".join(f"<th>{heading}</th>" for heading in _SUMMARY_HEADINGS)
    return _lines(
        f"""
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>合规快照 Compliance snapshot — {unit}</title>
{_STYLE.strip()}
</head>
<body>
<h1>合规快照 Compliance snapshot</h1>
<table class="meta">
<tr><td>单位（含下级） Unit and the units below it</td><td>{unit}</td></tr>
<tr><td>生成时间 Created at (UTC)</td><td>{escape(header.created_at)}</td></tr>
<tr><td>服务器密钥指纹 Server key fingerprint (SHA-256)</td><td>{fingerprint}</td></tr>
</table>
<p class="small">核验：<code>custos-server verify 文件 --fingerprint 指纹</code>；
指纹须与本单位另行公布的指纹一致。
To verify: <code>custos-server verify FILE --fingerprint HEX</code>;
the fingerprint must match the one the unit publishes separately.</p>
<h2>汇总 Summary</h2>
<table>
<tr>{headings}</tr>
"""
    )


def _policy(host: Host) -> str:
    if not isinstance(host.get("policy"), dict):
        return "—"
    return f"{escape(at(host, 'policy', 'id'))} {escape(at(host, 'policy', 'version'))}"


def _with_status(host: Host, status: str) -> int:
    return sum(1 for item in objects(host.get("results")) if item.get("status") == status)


def summary_rows(host: Host) -> list[bytes]:
    """The summary's row for one computer."""
    cells = (
        escape(host.get("unit")),
        escape(host.get("machine_number")),
        escape(host.get("hostname")),
        escape(host.get("responsible_person")),
        _policy(host),
        escape(words.word(words.STATE, host.get("state"))),
        str(_with_status(host, "fail")),
        str(_with_status(host, "error")),
        str(count(host.get("rectifications"))),
    )
    return [_line("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")]


def totals(tally: Tally) -> list[bytes]:
    """After the summary's rows: the end of that table and the counts by state."""
    lines = []
    if tally.hosts == 0:
        lines.append(
            f'<tr><td colspan="{len(_SUMMARY_HEADINGS)}">本单位及下级单位没有终端。 '
            "No hosts in this unit or below it.</td></tr>"
        )
    lines += ["</table>", '<table class="totals">']
    lines.append(f"<tr><th>终端数 Hosts</th><td>{tally.hosts}</td></tr>")
    lines += [
        f"<tr><th>{words.STATE[state]}</th><td>{tally.states[state]}</td></tr>" for state in STATES
    ]
    lines.append("</table>")
    return [_line(line) for line in lines]


def _field(heading: str, value: str) -> str:
    return f"<tr><th>{heading}</th><td>{value}</td></tr>"


def _joined(value: Any) -> str:
    return escape(", ".join(text(item) for item in value) if isinstance(value, list) else value)


def _notice(notice: dict[str, Any] | None) -> str:
    if notice is None:
        return "—"
    overdue = "（逾期 overdue）" if notice.get("overdue") is True else ""
    status = escape(words.word(words.NOTICE, notice.get("status")))
    return f"{status}，期限 due {escape(notice.get('deadline'))}{overdue}"


_EMPTY: dict[str, Any] = {}


def _result_row(result: dict[str, Any], notice: dict[str, Any] | None) -> str:
    title, message = result.get("title"), result.get("message")
    title = title if isinstance(title, dict) else _EMPTY
    message = message if isinstance(message, dict) else _EMPTY
    status = result.get("status")
    return (
        ('<tr class="fail"><td>' if status == "fail" else "<tr><td>")
        + f"{escape(title.get('zh'))}<br>{escape(title.get('en'))}</td>"
        + f"<td>{escape(words.word(words.CATEGORY, result.get('category')))} / "
        + f"{escape(words.word(words.SEVERITY, result.get('severity')))}</td>"
        + f"<td>{escape(words.word(words.RESULT, status))}</td>"
        + f"<td>{escape(message.get('zh'))}<br>{escape(message.get('en'))}</td>"
        + f"<td>{_notice(notice)}</td></tr>"
    )


def _usb_row(event: dict[str, Any]) -> str:
    cells = (
        escape(event.get("time")) or "—",
        f"{escape(event.get('vendor_id'))}:{escape(event.get('product_id'))}",
        escape(event.get("serial")) or "无 none",
        f"{escape(event.get('manufacturer'))} {escape(event.get('product'))}",
        escape(event.get("usb_class")),
        escape(event.get("source")),
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def sheet(host: Host) -> list[bytes]:
    """One computer's check sheet: its fields, every rule result, its USB history."""
    host_id = escape(host.get("host_id"))
    name = escape(host.get("hostname")) or host_id
    department = escape(host.get("department"))
    sha256 = escape(at(host, "policy", "sha256"))
    policy = (
        f'{_policy(host)} <span class="small">SHA-256 {sha256}</span>'
        if isinstance(host.get("policy"), dict)
        else "尚无完整报告 no full report yet"
    )
    reports = ", ".join(
        f"{escape(item.get('kind'))} #{escape(item.get('seq'))}"
        for item in objects(host.get("rests_on"))
    )
    lines = [
        '<section class="sheet">',
        f"<h2>检查表 Check sheet — {name}</h2>",
        '<table class="fields">',
        _field(
            "单位 / 部门 Unit / department",
            escape(host.get("unit")) + (f" / {department}" if department else ""),
        ),
        _field("机器编号 Machine number", escape(host.get("machine_number"))),
        _field("责任人 Responsible person", escape(host.get("responsible_person"))),
        _field(
            "密级 / 用途 Classification / purpose",
            f"{escape(host.get('classification'))} / {escape(host.get('purpose'))}",
        ),
        _field("主机名 Hostname", f"{escape(host.get('hostname'))} ({host_id})"),
        _field("操作系统 OS", f"{escape(host.get('os_name'))} {escape(host.get('os_version'))}"),
        _field(
            "IP / MAC",
            f"{_joined(host.get('ip_addresses'))} / {_joined(host.get('mac_addresses'))}",
        ),
        _field("硬盘序列号 Disk serials", _joined(host.get("disk_serials"))),
        _field(
            "状态 / 最后上报 Status / last seen",
            f"{escape(host.get('status'))} / {escape(host.get('last_seen')) or '—'}",
        ),
        _field("合规状态 Compliance", escape(words.word(words.STATE, host.get("state")))),
        _field("策略 Policy", policy),
        _field("依据报告 Signed reports", reports or "—"),
        "</table>",
        "<table>",
        "<tr><th>检查项 Item</th><th>类别 Category</th><th>结果 Result</th>"
        "<th>说明 Message</th><th>整改 Rectification</th></tr>",
    ]
    notices = by_rule(host.get("rectifications"))
    results = objects(host.get("results"))
    lines += [_result_row(result, notices.get(rule_of(result))) for result in results]
    if not results:
        lines.append('<tr><td colspan="5">尚无检查结果 No results yet</td></tr>')
    lines.append("</table>")
    history = objects(host.get("usb_history"))
    if history:
        lines += [
            "<table>",
            '<tr><th colspan="6">U 盘等移动存储使用记录 USB storage history</th></tr>',
            "<tr><th>时间 Time</th><th>厂商/产品 VID:PID</th><th>序列号 Serial</th>"
            "<th>设备 Device</th><th>类别 Class</th><th>来源 Source</th></tr>",
            *(_usb_row(event) for event in history),
            "</table>",
        ]
    lines += [
        '<table class="sign">',
        "<tr><th>检查人签字 Inspector's signature</th><td></td><th>日期 Date</th><td></td></tr>",
        "</table>",
        "</section>",
    ]
    return [_line(line) for line in lines]


def tail() -> list[bytes]:
    return _lines("</body>\n</html>")
