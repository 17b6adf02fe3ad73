"""The domain's words in Chinese and English: one vocabulary for every place a person reads.

The agent's check sheet, the dashboard, rectification notices, alerts and snapshots all name
the same things: a machine's fields (机器编号, 责任人 …), a rule's severity and category, a
result, a purpose, an interface kind. When each side keeps its own words they drift apart (the
sheet said 设备编号 where the dashboard said 机器编号), so the words live here, in a module
without dependencies that the agent and the server both import (the agent cannot import
Django, and the server cannot use the agent's message catalogue for its pages).

What is *not* here: page chrome (headings, buttons, sentences) stays in the Django catalogues
and the agent's messages in `agent.i18n`. This module holds the words for *codes a report
carries*, so that a code is never shown raw and never translated two ways.

A code a table does not know is shown as it is: agents may send values this version has never
seen (a new interface kind, a purpose typed into a configuration), and the value itself serves
the reader better than nothing. Tables whose codes a person types (purposes, classifications)
also recognise their own Chinese and English words, so "内部" reads "Internal" in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Lang = Literal["zh", "en"]
Pair = tuple[str, str]  # (Chinese, English)
Table = Mapping[str, Pair]

# --- fields of the check sheet (一机一档) --------------------------------------------------
FIELDS: Table = {
    "hostname": ("计算机名", "Computer name"),
    "os": ("操作系统", "Operating system"),
    "ip_addresses": ("IP 地址", "IP addresses"),
    "mac_addresses": ("MAC 地址", "MAC addresses"),
    "disk_serials": ("硬盘序列号", "Disk serial numbers"),
    "machine_number": ("机器编号", "Machine number"),
    "responsible_person": ("责任人", "Person responsible"),
    "department": ("部门", "Department"),
    "classification": ("密级", "Classification"),
    "purpose": ("用途", "Purpose"),
    "unit": ("单位", "Unit"),
    "policy": ("检查策略", "Policy"),
    "checked_at": ("检查时间", "Checked at"),
    "rule": ("检查项", "Rule"),
    "severity": ("严重程度", "Severity"),
    "category": ("类别", "Category"),
    "result": ("检查结果", "Result"),
    "problem": ("存在问题", "Problem"),
    "remedy": ("整改方法", "How to fix"),
    "found_at": ("发现于", "Found at"),
}

# --- what a rule concludes -----------------------------------------------------------------
SEVERITIES: Table = {
    "critical": ("严重", "critical"),
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
    "info": ("提示", "info"),
}
CATEGORIES: Table = {
    "software": ("软件", "Software"),
    "media": ("移动存储介质", "Removable media"),
    "internet": ("违规外联", "Internet access"),
    "asset": ("资产登记", "Asset registration"),
}
STATUSES: Table = {
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
    "error": ("未能检查", "could not be checked"),
    "not_applicable": ("不适用", "not applicable"),
}

# --- what a unit assigns to a machine (typed into the agent's configuration) --------------
PURPOSES: Table = {
    "intranet": ("内网", "Intranet"),
    "classified-intranet": ("涉密内网", "Classified intranet"),
    "business-network": ("非涉密内网（业务专网）", "Non-classified intranet (business network)"),
    "internet": ("互联网", "Internet"),
    "standalone": ("单机", "Standalone"),
}
# The Law on Guarding State Secrets' own English: 绝密 top secret, 机密 secret, 秘密 confidential.
CLASSIFICATIONS: Table = {
    "unclassified": ("非密", "Unclassified"),
    "internal": ("内部", "Internal"),
    "confidential": ("秘密", "Confidential"),
    "secret": ("机密", "Secret"),
    "top-secret": ("绝密", "Top secret"),
}

# --- states of what was found --------------------------------------------------------------
INSTALLED: Table = {
    "yes": ("已安装", "installed"),
    "no": ("未安装", "not installed"),
    "unknown": ("未知", "unknown"),
}
RUNNING: Table = {
    "yes": ("正在运行", "running"),
    "no": ("未运行", "not running"),
    "unknown": ("无法判断", "unknown"),
}
REGISTERED: Table = {
    "yes": ("已登记", "registered"),
    "no": ("未登记", "not registered"),
    "unknown": ("未知", "unknown"),
}
YES_NO: Table = {"yes": ("是", "yes"), "no": ("否", "no"), "unknown": ("—", "—")}

PLATFORMS: Table = {
    "linux": ("Linux", "Linux"),
    "windows": ("Windows", "Windows"),
    "macos": ("macOS", "macOS"),
}
INTERFACE_KINDS: Table = {
    "wired": ("有线网卡", "wired"),
    "wireless": ("无线网卡", "Wi-Fi"),
    "wwan": ("4G/5G 上网卡", "4G/5G modem"),
    "usb-tether": ("USB 共享网络（手机）", "USB tethering (phone)"),
    "virtual": ("虚拟网卡", "virtual"),
    "vpn": ("VPN", "VPN"),
    "loopback": ("本地回环", "loopback"),
    "other": ("其他", "other"),
}
INTERFACE_STATES: Table = {
    "present": ("存在即违规", "present at all"),
    "up": ("启用时违规", "when up"),
}
USB_CLASSES: Table = {
    "mass-storage": ("移动存储", "USB storage"),
    "mtp-ptp": ("手机/相机", "phone or camera"),
    "network": ("网络设备", "network device"),
    "hid": ("键盘/鼠标", "keyboard or mouse"),
    "hub": ("USB 集线器", "USB hub"),
    "other": ("其他", "other"),
}
MEDIA_MODES: Table = {
    "forbid": ("禁止使用", "forbidden"),
    "registered_only": ("仅限登记设备", "registered devices only"),
    "allow": ("允许使用", "allowed"),
}
MEDIA_HISTORY_SOURCES: Table = {
    "journal": ("系统日志（systemd）", "systemd journal"),
    "kern.log": ("内核日志文件 kern.log", "kernel log file kern.log"),
    "syslog": ("系统日志文件 syslog", "log file syslog"),
    "messages": ("系统日志文件 messages", "log file messages"),
    "registry:USBSTOR": ("注册表 USBSTOR", "registry USBSTOR"),
    "registry:USB": ("注册表 USB", "registry USB"),
    "unified-log": ("macOS 统一日志", "macOS unified log"),
}
PROBE_OUTCOMES: Table = {
    "reached": ("可以访问", "reached"),
    "unverified": ("有应答但未通过签名验证", "answered without a valid signature"),
    "unreachable": ("无法访问", "unreachable"),
    "error": ("未能探测", "could not run"),
}
SERVICE_STATES: Table = {
    "running": ("运行中", "running"),
    "stopped": ("已停止", "stopped"),
}
COLLECTORS: Table = {
    "software": ("已安装软件", "installed software"),
    "processes": ("运行中的进程", "running processes"),
    "services": ("系统服务", "system services"),
    "media": ("移动存储信息", "removable media"),
    "network": ("网络信息", "network facts"),
    "host": ("主机信息", "host identity"),
}
# Why a rule could not be checked: agent.errors.Cause, a finding's `evidence.cause`.
CAUSES: Table = {
    "permission_denied": ("权限不足", "permission denied"),
    "command_missing": ("本机缺少读取所需的程序", "a program needed to read it is missing"),
    "no_source": ("本机没有这项记录", "this PC keeps no such record"),
    "timed_out": ("读取超时", "reading it timed out"),
    "failed": ("读取失败", "reading it failed"),
}
REPORT_TRIGGERS: Table = {
    "startup": ("启动时", "startup"),
    "schedule": ("定时", "schedule"),
    "media": ("接入移动存储", "removable media"),
    "network": ("网络变化", "network change"),
    "command": ("服务器要求复查", "re-check request"),
    "manual": ("手动", "manual"),
    "policy": ("策略更新", "policy update"),
    "software": ("软件安装或卸载", "software installed or removed"),
    "uninstall": ("客户端被卸载", "agent being uninstalled"),
}

# --- the keys of a finding's evidence (what the agent sends, see agent.evaluation) ---------
EVIDENCE_KEYS: Table = {
    "installed": ("是否安装", "Installed"),
    "running": ("是否运行", "Running"),
    "not_running": ("未运行的项", "Not running"),
    "packages": ("软件包", "Packages"),
    "processes": ("进程", "Processes"),
    "services": ("服务", "Services"),
    "name": ("名称", "Name"),
    "version": ("版本", "Version"),
    "publisher": ("发布者", "Publisher"),
    "source": ("来源", "Source"),
    "pid": ("进程号", "PID"),
    "exe": ("程序路径", "Program"),
    "user": ("用户", "User"),
    "state": ("状态", "State"),
    "start_mode": ("启动方式", "Start mode"),
    "collector": ("采集项", "Collector"),
    "error": ("错误", "Error"),
    "cause": ("原因", "Cause"),
    "mode": ("策略要求", "Policy mode"),
    "devices": ("设备", "Devices"),
    "device": ("设备", "Device"),
    "events": ("接入记录", "Connections"),
    "vendor_id": ("厂商ID", "Vendor id"),
    "product_id": ("产品ID", "Product id"),
    "serial": ("序列号", "Serial number"),
    "has_serial": ("有序列号", "Has a serial number"),
    "vendor": ("厂商", "Vendor"),
    "manufacturer": ("厂商", "Manufacturer"),
    "model": ("型号", "Model"),
    "product": ("产品", "Product"),
    "size_bytes": ("容量（字节）", "Size (bytes)"),
    "bus": ("总线", "Bus"),
    "bus_path": ("总线位置", "Bus path"),
    "mounts": ("挂载点", "Mount points"),
    "labels": ("卷标", "Labels"),
    "registered": ("是否登记", "Registered"),
    "class": ("设备类别", "Device class"),
    "time": ("首次接入", "First connected"),
    "last_seen": ("最近接入", "Last connected"),
    "since": ("检查起始时间", "Checked since"),
    "probes": ("探测", "Probes"),
    "probe": ("探测项", "Probe"),
    "kind": ("类型", "Kind"),
    "target": ("目标", "Target"),
    "outcome": ("结果", "Outcome"),
    "verified": ("签名已验证", "Signature verified"),
    "elapsed_ms": ("耗时（毫秒）", "Time (ms)"),
    "detail": ("详情", "Detail"),
    "forbidden_kinds": ("禁止的接口类型", "Forbidden kinds"),
    "interfaces": ("网络接口", "Interfaces"),
    "up": ("已启用", "Up"),
    "driver": ("驱动", "Driver"),
    "mac": ("MAC 地址", "MAC address"),
    "addresses": ("地址", "Addresses"),
    "forbidden": ("禁止", "Forbidden"),
    "max": ("最多允许", "At most"),
    "default_routes": ("默认路由", "Default routes"),
    "destination": ("目的网段", "Destination"),
    "gateway": ("网关", "Gateway"),
    "interface": ("接口", "Interface"),
    "metric": ("跃点数", "Metric"),
    "family": ("协议族", "Family"),
    "connections": ("网络连接", "Connections"),
    "remote": ("远端地址", "Remote address"),
    "port": ("端口", "Port"),
    "local": ("本地地址", "Local address"),
    "process": ("进程", "Process"),
    "protocol": ("协议", "Protocol"),
    "dns_servers": ("DNS 服务器", "DNS servers"),
    "outside": ("允许网段以外", "Outside the allowed networks"),
    "outside_gateways": ("允许网段以外的网关", "Gateways outside the allowed networks"),
    "required": ("必填项", "Required"),
    "missing": ("缺少", "Missing"),
}
ADDRESS_FAMILIES: Table = {"ipv4": ("IPv4", "IPv4"), "ipv6": ("IPv6", "IPv6")}

# Evidence values that are codes, by the key they appear under. `kind` names an interface kind
# in interface rows; a probe's kind (https, tcp, dns) is a protocol name and stays as it is.
_EVIDENCE_VALUE_TABLES: Mapping[str, Table] = {
    "installed": INSTALLED,
    "running": RUNNING,
    "registered": REGISTERED,
    "class": USB_CLASSES,
    "kind": INTERFACE_KINDS,
    "forbidden_kinds": INTERFACE_KINDS,
    "outcome": PROBE_OUTCOMES,
    "mode": MEDIA_MODES,
    "collector": COLLECTORS,
    "cause": CAUSES,
    "required": FIELDS,
    "missing": FIELDS,
    "family": ADDRESS_FAMILIES,
}
# `state` is an interface rule's setting ("present", "up") or a service's state.
_STATE_TABLES = (INTERFACE_STATES, SERVICE_STATES)
_TRUTH_TABLES = (INSTALLED, RUNNING, REGISTERED)


def _pick(pair: Pair, lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _normalised(value: str) -> str:
    return value.strip().lower().replace("_", "-").replace(" ", "-")


def _reverse(table: Table) -> dict[str, str]:
    """Each table's codes, also reachable by their Chinese and English words."""
    found: dict[str, str] = {}
    for code, (zh, en) in table.items():
        found.setdefault(_normalised(code), code)
        found.setdefault(_normalised(zh), code)
        found.setdefault(_normalised(en), code)
    return found


_TYPED_TABLES = {id(PURPOSES): _reverse(PURPOSES), id(CLASSIFICATIONS): _reverse(CLASSIFICATIONS)}


def term(table: Table, code: object, lang: Lang) -> str:
    """The word for `code` in `lang`; a code the table does not know, as it is.

    Purposes and classifications are typed by people: they are also found by their own
    Chinese or English word, whatever the case and separators.
    """
    key = "" if code is None else str(code)
    pair = table.get(key)
    if pair is None and id(table) in _TYPED_TABLES:
        known = _TYPED_TABLES[id(table)].get(_normalised(key))
        pair = table[known] if known is not None else None
    return _pick(pair, lang) if pair is not None else key


def truth(table: Table, value: object, lang: Lang) -> str:
    """A yes/no/unknown table's word for True, False or anything else (None: not known)."""
    code = "yes" if value is True else "no" if value is False else "unknown"
    return _pick(table[code], lang)


def evidence_key(key: object, lang: Lang) -> str:
    return term(EVIDENCE_KEYS, key, lang)


def evidence_value(key: str, value: Any, lang: Lang) -> str | None:
    """The words for one scalar of a finding's evidence found under `key`, or None when the
    value is not a code this glossary names (numbers, names, addresses stay as they are)."""
    if isinstance(value, bool) or (value is None and key in ("installed", "running")):
        tables = [t for t in _TRUTH_TABLES if _EVIDENCE_VALUE_TABLES.get(key) is t]
        return truth(tables[0] if tables else YES_NO, value, lang)
    if not isinstance(value, str):
        return None
    if key == "state":
        known = [table for table in _STATE_TABLES if value in table]
    elif key == "source":
        known = [MEDIA_HISTORY_SOURCES] if value in MEDIA_HISTORY_SOURCES else []
    else:
        coded = _EVIDENCE_VALUE_TABLES.get(key)
        known = [coded] if coded is not None and value in coded else []
    return term(known[0], value, lang) if known else None


def listing(items: list[str], lang: Lang) -> str:
    """Items as a reader lists them: 甲、乙、丙 / a, b, c."""
    return ("、" if lang == "zh" else ", ").join(items)


# --- what is wrong, as a violation list names it (see agent.problem_text) -----------------
# `{subject}` is what the rule is about (the client a required-software rule names); a
# finding's own details follow after a colon.
PROBLEMS: Table = {
    "software.missing": ("未安装", "Not installed"),
    "software.not_running": ("已安装但未运行", "Installed but not running"),
    "software.missing_or_not_running": ("未安装或未运行", "Not installed or not running"),
    "software.forbidden": ("发现违规软件", "Forbidden software found"),
    "media.attached": ("接入了未登记的移动存储介质", "Unregistered removable storage attached"),
    "media.attached_forbidden": (
        "接入了移动存储介质（策略禁止使用）",
        "Removable storage attached (not allowed at all)",
    ),
    "media.history": (
        "接入过未登记的移动存储介质",
        "Unregistered removable storage was connected",
    ),
    "media.history_forbidden": (
        "接入过移动存储介质（策略禁止使用）",
        "Removable storage was connected (not allowed at all)",
    ),
    "media.phones": ("连接了手机或相机", "Phone or camera connected"),
    "internet.probes": ("可以访问互联网", "The internet is reachable"),
    "internet.interfaces": ("存在禁止类型的网络接口", "Network interface of a forbidden kind"),
    "internet.routes": ("默认路由过多", "Too many default routes"),
    "internet.gateway": (
        "默认网关不在允许的网段内",
        "Default gateway outside the allowed networks",
    ),
    "internet.routes_or_gateway": (
        "默认路由过多或网关不在允许的网段内",
        "Extra default route or gateway outside the allowed networks",
    ),
    "internet.connections": (
        "存在到允许网段以外地址的连接",
        "Connections to addresses outside the allowed networks",
    ),
    "internet.dns": ("DNS 服务器不在允许的网段内", "DNS server outside the allowed networks"),
    "asset.missing": ("资产登记信息缺失", "Missing asset register fields"),
    "other": ("不符合要求", "Requirement not met"),
    "unchecked": ("未能检查", "Could not be checked"),  # a rule no host fails, some could not check
    "more": ("等 {count} 项", "and {count} more"),
    "routes_count": ("{family} {count} 条，最多 {max} 条", "{count} {family}, at most {max}"),
    "process": ("进程 {pid}", "process {pid}"),
}
