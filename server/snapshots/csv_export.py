"""The snapshot's spreadsheets: hosts.csv, findings.csv and software.csv.

UTF-8 with a byte-order mark, because Excel on a Chinese Windows reads a CSV without one as
GBK and garbles every name. Headers are bilingual ("单位 / Unit"). Every row of findings.csv
names the policy id and version, as an auditor's export must (domain.md).

Most cells hold text an agent sent (hostnames, software names, asset fields), and a cell
that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheet programs (`=cmd|' /C calc'!A0`): such cells are prefixed with `'`, which shows
the text as it is and runs nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Column = tuple[str, Callable[[Mapping[str, Any]], Any]]


def cell(value: Any) -> str:
    """A value as a safe CSV cell: lists joined, booleans and None in words, no formulas."""
    if value is None:
        text = ""
    elif value is True:
        text = "是 yes"
    elif value is False:
        text = "否 no"
    elif isinstance(value, (list, tuple)):
        text = "; ".join(cell(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(header) for header, _ in columns])
    for row in rows:
        writer.writerow([cell(value(row)) for _, value in columns])
    return out.getvalue().encode("utf-8")


def _policy(host: Mapping[str, Any], key: str) -> Any:
    policy = host.get("policy")
    return policy.get(key) if isinstance(policy, Mapping) else None


def _required(host: Mapping[str, Any]) -> str:
    """ "rule: installed/running" per required-software rule."""
    parts = []
    for item in host.get("required_software") or []:
        installed = "已安装 installed" if item.get("installed") else "未安装 missing"
        running = {True: "运行 running", False: "未运行 stopped", None: "未知 unknown"}[
            item.get("running")
        ]
        parts.append(f"{item.get('rule')}: {installed}, {running}")
    return "; ".join(parts)


def _rests_on(host: Mapping[str, Any]) -> str:
    return "; ".join(f"{item['kind']} #{item['seq']}" for item in host.get("rests_on") or [])


def _failed(host: Mapping[str, Any]) -> int:
    return sum(1 for item in host.get("results") or [] if item.get("status") == "fail")


HOST_COLUMNS: tuple[Column, ...] = (
    ("单位 / Unit", lambda h: h["unit"]),
    ("部门 / Department", lambda h: h["department"]),
    ("机器编号 / Machine number", lambda h: h["machine_number"]),
    ("责任人 / Responsible person", lambda h: h["responsible_person"]),
    ("密级 / Classification", lambda h: h["classification"]),
    ("用途 / Purpose", lambda h: h["purpose"]),
    ("主机名 / Hostname", lambda h: h["hostname"]),
    ("主机标识 / Host ID", lambda h: h["host_id"]),
    ("操作系统 / OS", lambda h: f"{h['os_name']} {h['os_version']}".strip()),
    ("IP 地址 / IP addresses", lambda h: h["ip_addresses"]),
    ("MAC 地址 / MAC addresses", lambda h: h["mac_addresses"]),
    ("硬盘序列号 / Disk serials", lambda h: h["disk_serials"]),
    ("状态 / Status", lambda h: h["status"]),
    ("最后上报 / Last seen", lambda h: h["last_seen"]),
    ("策略 / Policy", lambda h: _policy(h, "id")),
    ("策略版本 / Policy version", lambda h: _policy(h, "version")),
    ("策略哈希 / Policy SHA-256", lambda h: _policy(h, "sha256")),
    ("合规 / Compliant", lambda h: h["compliant"]),
    ("不合格项 / Failed rules", _failed),
    ("必装软件 / Required software", _required),
    ("U 盘记录数 / USB history entries", lambda h: len(h["usb_history"])),
    ("未销号整改 / Open rectifications", lambda h: len(h["rectifications"])),
    ("依据报告 / Signed reports", _rests_on),
)

FINDING_COLUMNS: tuple[Column, ...] = (
    ("单位 / Unit", lambda r: r["host"]["unit"]),
    ("机器编号 / Machine number", lambda r: r["host"]["machine_number"]),
    ("主机名 / Hostname", lambda r: r["host"]["hostname"]),
    ("主机标识 / Host ID", lambda r: r["host"]["host_id"]),
    ("策略 / Policy", lambda r: _policy(r["host"], "id")),
    ("策略版本 / Policy version", lambda r: _policy(r["host"], "version")),
    ("规则 / Rule", lambda r: r["result"]["rule"]),
    ("类别 / Category", lambda r: r["result"]["category"]),
    ("严重程度 / Severity", lambda r: r["result"]["severity"]),
    ("结果 / Result", lambda r: r["result"]["status"]),
    ("检查项 / Item", lambda r: r["result"]["title"]["zh"]),
    ("Item (en)", lambda r: r["result"]["title"]["en"]),
    ("说明 / Message", lambda r: r["result"]["message"]["zh"]),
    ("Message (en)", lambda r: r["result"]["message"]["en"]),
    ("自何时 / Since", lambda r: r["result"].get("since")),
    ("整改状态 / Rectification", lambda r: r["rectification"].get("status")),
    ("整改期限 / Due date", lambda r: r["rectification"].get("deadline")),
    ("依据报告 / Signed reports", lambda r: _rests_on(r["host"])),
)

SOFTWARE_COLUMNS: tuple[Column, ...] = (
    ("单位 / Unit", lambda r: r["host"]["unit"]),
    ("机器编号 / Machine number", lambda r: r["host"]["machine_number"]),
    ("主机名 / Hostname", lambda r: r["host"]["hostname"]),
    ("主机标识 / Host ID", lambda r: r["host"]["host_id"]),
    ("软件名称 / Software", lambda r: r["software"].get("name")),
    ("版本 / Version", lambda r: r["software"].get("version")),
    ("发行者 / Publisher", lambda r: r["software"].get("publisher")),
)


def hosts_csv(hosts: Sequence[Mapping[str, Any]]) -> bytes:
    return table(HOST_COLUMNS, hosts)


def findings_csv(hosts: Sequence[Mapping[str, Any]]) -> bytes:
    def rows() -> Iterable[Mapping[str, Any]]:
        for host in hosts:
            notices = {item["rule"]: item for item in host["rectifications"]}
            for result in host["results"]:
                yield {
                    "host": host,
                    "result": result,
                    "rectification": notices.get(result["rule"], {}),
                }

    return table(FINDING_COLUMNS, rows())


def software_csv(hosts: Sequence[Mapping[str, Any]]) -> bytes:
    rows = ({"host": host, "software": software} for host in hosts for software in host["software"])
    return table(SOFTWARE_COLUMNS, rows)
