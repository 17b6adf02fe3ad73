"""The snapshot's spreadsheets: hosts.csv, findings.csv and software.csv, row by row.

UTF-8 with a byte-order mark, because Excel on a Chinese Windows reads a CSV without one as
GBK and garbles every name. Headers are bilingual ("单位 / Unit"). Every row of findings.csv
names the policy id and version, as an auditor's export must (domain.md).

Most cells hold text an agent sent (hostnames, software names, asset fields), and a cell
that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheet programs (`=cmd|' /C calc'!A0`): such cells are prefixed with `'`, which shows
the text as it is and runs nothing.

Each table is its header row, then the rows of each host record in snapshot.json's order:
a pure function of snapshot.json, which `create` writes and `verify` regenerates to compare
(`derived`). Records are read only through `fields`, so any JSON gives rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from server.snapshots import words
from server.snapshots.fields import at, by_rule, count, objects, rule_of, text

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = dict[str, Any]
Column = tuple[str, Callable[[Row], Any]]
ItemColumn = tuple[str, Callable[[Row, Row], Any]]  # (the item, the host's notice for it)


def cell(value: Any) -> str:
    """A value as a safe CSV cell: lists joined, booleans and None in words, no formulas."""
    if type(value) is str:  # most cells: first, and without isinstance's cost
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        text = ""
    elif value is True:
        text = "是 yes"
    elif value is False:
        text = "否 no"
    elif isinstance(value, (list, tuple)):
        text = "; ".join(cell(item) for item in value)
    elif isinstance(value, dict):
        text = ""  # never a column's value in a record create writes
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _RowWriter:
    """csv.writer into a reused buffer: one encoded row at a time."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def __call__(self, cells: list[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode("utf-8", "surrogatepass")


_row = _RowWriter()


def _head(headers: list[str]) -> list[bytes]:
    return [BOM.encode("utf-8") + _row(headers)]


_RUNNING = {"true": "运行 running", "false": "未运行 stopped"}


def _flag(value: Any) -> str:
    return "true" if value is True else "false" if value is False else ""


def _required(host: Row) -> str:
    """ "rule: installed/running" per required-software rule."""
    parts = []
    for item in objects(host.get("required_software")):
        installed = "已安装 installed" if item.get("installed") is True else "未安装 missing"
        running = _RUNNING.get(_flag(item.get("running")), "未知 unknown")
        parts.append(f"{text(item.get('rule'))}: {installed}, {running}")
    return "; ".join(parts)


def _rests_on(host: Row) -> str:
    return "; ".join(
        f"{text(item.get('kind'))} #{text(item.get('seq'))}"
        for item in objects(host.get("rests_on"))
    )


def _failed(host: Row) -> int:
    return sum(1 for item in objects(host.get("results")) if item.get("status") == "fail")


def _os(host: Row) -> str:
    return f"{text(host.get('os_name'))} {text(host.get('os_version'))}".strip()


HOST_COLUMNS: tuple[Column, ...] = (
    ("单位 / Unit", lambda h: h.get("unit")),
    ("部门 / Department", lambda h: h.get("department")),
    ("机器编号 / Machine number", lambda h: h.get("machine_number")),
    ("责任人 / Responsible person", lambda h: h.get("responsible_person")),
    ("密级 / Classification", lambda h: h.get("classification")),
    ("用途 / Purpose", lambda h: h.get("purpose")),
    ("主机名 / Hostname", lambda h: h.get("hostname")),
    ("主机标识 / Host ID", lambda h: h.get("host_id")),
    ("操作系统 / OS", _os),
    ("IP 地址 / IP addresses", lambda h: h.get("ip_addresses")),
    ("MAC 地址 / MAC addresses", lambda h: h.get("mac_addresses")),
    ("硬盘序列号 / Disk serials", lambda h: h.get("disk_serials")),
    ("状态 / Status", lambda h: h.get("status")),
    ("最后上报 / Last seen", lambda h: h.get("last_seen")),
    ("策略 / Policy", lambda h: at(h, "policy", "id")),
    ("策略版本 / Policy version", lambda h: at(h, "policy", "version")),
    ("策略哈希 / Policy SHA-256", lambda h: at(h, "policy", "sha256")),
    ("合规状态 / Compliance", lambda h: words.word(words.STATE, h.get("state"))),
    ("不合格项 / Failed rules", _failed),
    ("必装软件 / Required software", _required),
    ("U 盘记录数 / USB history entries", lambda h: count(h.get("usb_history"))),
    ("未销号整改 / Open rectifications", lambda h: count(h.get("rectifications"))),
    ("依据报告 / Signed reports", _rests_on),
)

# findings.csv and software.csv: the host's cells, the item's cells, the host's reports.
FINDING_HOST_COLUMNS: tuple[Column, ...] = (
    ("单位 / Unit", lambda h: h.get("unit")),
    ("机器编号 / Machine number", lambda h: h.get("machine_number")),
    ("主机名 / Hostname", lambda h: h.get("hostname")),
    ("主机标识 / Host ID", lambda h: h.get("host_id")),
    ("策略 / Policy", lambda h: at(h, "policy", "id")),
    ("策略版本 / Policy version", lambda h: at(h, "policy", "version")),
)
# The result's own cells, in the order of `_result_cells` (the cells of every rule of every
# PC, written without a function call each: findings.csv is most of the spreadsheets' work).
RESULT_HEADERS = (
    "规则 / Rule",
    "类别 / Category",
    "严重程度 / Severity",
    "结果 / Result",
    "检查项 / Item",
    "Item (en)",
    "说明 / Message",
    "Message (en)",
    "自何时 / Since",
    "整改状态 / Rectification",
    "整改期限 / Due date",
)
_EMPTY: Row = {}


def _result_cells(result: Row, notice: Row) -> list[str]:
    title, message = result.get("title"), result.get("message")
    title = title if isinstance(title, dict) else _EMPTY
    message = message if isinstance(message, dict) else _EMPTY
    return [
        cell(result.get("rule")),
        cell(words.word(words.CATEGORY, result.get("category"))),
        cell(words.word(words.SEVERITY, result.get("severity"))),
        cell(words.word(words.RESULT, result.get("status"))),
        cell(title.get("zh")),
        cell(title.get("en")),
        cell(message.get("zh")),
        cell(message.get("en")),
        cell(result.get("since")),
        cell(notice.get("status")),
        cell(notice.get("deadline")),
    ]


SOFTWARE_HOST_COLUMNS = FINDING_HOST_COLUMNS[:4]
SOFTWARE_COLUMNS: tuple[ItemColumn, ...] = (
    ("软件名称 / Software", lambda s, _: s.get("name")),
    ("版本 / Version", lambda s, _: s.get("version")),
    ("发行者 / Publisher", lambda s, _: s.get("publisher")),
)
REPORTS_HEADER = "依据报告 / Signed reports"


def hosts_head() -> list[bytes]:
    return _head([header for header, _ in HOST_COLUMNS])


def hosts_rows(host: Row) -> list[bytes]:
    return [_row([cell(value(host)) for _, value in HOST_COLUMNS])]


def findings_head() -> list[bytes]:
    headers = [header for header, _ in FINDING_HOST_COLUMNS]
    return _head([*headers, *RESULT_HEADERS, REPORTS_HEADER])


def findings_rows(host: Row) -> list[bytes]:
    """One row per rule result, with the rectification notice for that rule, if any."""
    first = [cell(value(host)) for _, value in FINDING_HOST_COLUMNS]
    last = [cell(_rests_on(host))]
    notices = by_rule(host.get("rectifications"))
    rows = []
    for result in objects(host.get("results")):
        notice = notices.get(rule_of(result), _EMPTY)
        rows.append(_row(first + _result_cells(result, notice) + last))
    return rows


def software_head() -> list[bytes]:
    return _head([header for header, _ in (*SOFTWARE_HOST_COLUMNS, *SOFTWARE_COLUMNS)])


def software_rows(host: Row) -> list[bytes]:
    first = [cell(value(host)) for _, value in SOFTWARE_HOST_COLUMNS]
    return [
        _row(first + [cell(value(item, {})) for _, value in SOFTWARE_COLUMNS])
        for item in objects(host.get("software"))
    ]
