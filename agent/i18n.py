"""The agent's own words, in Chinese and English.

Every message an evaluator or the text sheet emits comes from this catalogue, so a missing
translation is a test failure, not a surprise in front of an auditor. Policy texts (rule titles,
remedies) come from the policy itself, which must give both languages.
"""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class LocalText:
    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


CATALOGUE: dict[str, tuple[str, str]] = {
    # facts that could not be collected
    "facts.unavailable": ("无法采集{what}：{reason}", "Could not collect {what}: {reason}"),
    "what.software": ("已安装软件", "installed software"),
    "what.processes": ("运行中的进程", "running processes"),
    "what.services": ("系统服务", "system services"),
    "what.media": ("移动存储信息", "removable media"),
    "what.network": ("网络信息", "network facts"),
    "what.host": ("主机信息", "host identity"),
    "platform.not_applicable": (
        "本规则不适用于{platform}系统",
        "This rule does not apply to {platform}",
    ),
    # required software
    "required.ok": ("已安装并正在运行：{packages}", "Installed and running: {packages}"),
    "required.installed": ("已安装：{packages}", "Installed: {packages}"),
    "required.missing": ("未安装", "Not installed"),
    "required.not_running": (
        "已安装（{packages}）但未运行：未发现 {missing}",
        "Installed ({packages}) but not running: no {missing}",
    ),
    "required.run_unknown": (
        "已安装（{packages}），但无法判断是否运行：{reason}",
        "Installed ({packages}), but whether it runs is unknown: {reason}",
    ),
    # forbidden software
    "forbidden.none": ("未发现违规软件", "No forbidden software found"),
    "forbidden.found": ("发现违规软件：{items}", "Forbidden software found: {items}"),
    "forbidden.unknown": (
        "未发现违规软件，但检查不完整：{reason}",
        "No forbidden software found, but the check is incomplete: {reason}",
    ),
    # removable media
    "media.no_storage": ("未接入移动存储设备", "No removable storage attached"),
    "media.allowed": (
        "策略允许移动存储；当前接入 {count} 个",
        "Removable storage is allowed; {count} attached",
    ),
    "media.all_registered": (
        "接入的 {count} 个移动存储均为登记设备",
        "All {count} attached storage devices are registered",
    ),
    "media.forbidden_attached": (
        "接入了移动存储设备：{devices}",
        "Removable storage attached: {devices}",
    ),
    "media.unregistered_attached": (
        "接入了未登记的移动存储设备：{devices}",
        "Unregistered removable storage attached: {devices}",
    ),
    "media.history_unavailable": (
        "无法读取移动存储接入记录：{reason}",
        "Removable-media history could not be read: {reason}",
    ),
    "media.history_clean": (
        "自 {since} 以来无违规移动存储接入记录（来源：{source}）",
        "No violating removable storage since {since} (source: {source})",
    ),
    "media.history_found": (
        "自 {since} 以来接入过：{devices}",
        "Connected since {since}: {devices}",
    ),
    "media.no_phones": ("未接入手机或相机", "No phone or camera attached"),
    "media.phones_found": ("接入了手机/相机：{devices}", "Phone or camera attached: {devices}"),
    "media.no_serial": ("无序列号", "no serial number"),
    # internet
    "internet.allowed": ("策略允许访问互联网，本项不适用", "The policy allows the internet"),
    "internet.probes_blocked": (
        "所有探测目标均不可达（{count} 项）",
        "No probe target was reachable ({count} probes)",
    ),
    "internet.probes_reached": (
        "可以访问互联网：{targets}",
        "The internet is reachable: {targets}",
    ),
    "internet.probes_unverified": (
        "探测目标不可达；{targets} 有应答但未通过签名验证，不视为互联网",
        "No probe target reachable; {targets} answered without a valid signature, "
        "which does not count as the internet",
    ),
    "internet.probes_error": ("探测无法执行：{reason}", "The probes could not run: {reason}"),
    "internet.interfaces_ok": (
        "未发现禁止类型的网络接口（{kinds}）",
        "No interface of a forbidden kind ({kinds})",
    ),
    "internet.interfaces_found": (
        "发现禁止类型的网络接口：{interfaces}",
        "Interfaces of a forbidden kind: {interfaces}",
    ),
    "internet.routes_ok": ("默认路由 {count} 条，符合要求", "{count} default route(s), as allowed"),
    "internet.routes_too_many": (
        "默认路由过多（{family} {count} 条，最多 {max} 条）：{routes}",
        "Too many default routes ({count} {family}, at most {max}): {routes}",
    ),
    "internet.gateway_outside": (
        "默认网关不在允许的网段内：{gateways}",
        "Default gateway outside the allowed networks: {gateways}",
    ),
    "internet.connections_ok": ("未发现到外部地址的连接", "No connection to an external address"),
    "internet.connections_found": (
        "存在到外部地址的连接：{connections}",
        "Connections to external addresses: {connections}",
    ),
    "internet.dns_ok": (
        "DNS 服务器均在允许的网段内",
        "Every DNS server is inside the allowed networks",
    ),
    "internet.dns_outside": (
        "DNS 服务器不在允许的网段内：{servers}",
        "DNS servers outside the allowed networks: {servers}",
    ),
    "internet.no_networks": (
        "策略未配置允许的网段，本项不适用",
        "The policy names no allowed networks",
    ),
    # asset register
    "asset.ok": ("资产登记信息完整", "Asset register fields complete"),
    "asset.missing": ("资产登记信息缺失：{fields}", "Missing asset register fields: {fields}"),
    # the text sheet
    "sheet.heading": ("终端合规自查表", "Endpoint compliance self-inspection"),
    "sheet.host": ("计算机名", "Computer"),
    "sheet.os": ("操作系统", "Operating system"),
    "sheet.ip": ("IP 地址", "IP address"),
    "sheet.mac": ("MAC 地址", "MAC address"),
    "sheet.disk": ("硬盘序列号", "Disk serial"),
    "sheet.machine_number": ("设备编号", "Machine number"),
    "sheet.responsible_person": ("责任人", "Person responsible"),
    "sheet.department": ("部门", "Department"),
    "sheet.classification": ("密级", "Classification"),
    "sheet.purpose": ("用途", "Purpose"),
    "sheet.policy": ("检查策略", "Policy"),
    "sheet.checked_at": ("检查时间", "Checked at"),
    "sheet.items": ("检查项目", "Items checked"),
    "sheet.todo": ("需要整改", "What to fix"),
    "sheet.unchecked": ("未能检查", "Could not be checked"),
    "sheet.result": ("结论", "Result"),
    "sheet.compliant": ("合规：全部 {passed} 项通过", "Compliant: all {passed} items passed"),
    "sheet.not_compliant": (
        "不合规：{failed} 项不通过，{errors} 项未能检查，{passed} 项通过",
        "Not compliant: {failed} failed, {errors} could not be checked, {passed} passed",
    ),
    "sheet.evidence": ("依据", "Evidence"),
    "sheet.remedy": ("处理办法", "What to do"),
    "sheet.default_remedy": (
        "请联系本单位信息化管理员处理后重新自查",
        "Ask your unit's IT administrator to fix this, then run the check again",
    ),
    "sheet.unchecked_remedy": (
        "请以管理员权限重新运行检查；如仍失败请联系管理员",
        "Run the check again with administrator rights; if it still fails, contact IT",
    ),
    "sheet.not_set": ("未登记", "not recorded"),
    "status.pass": ("通过", "PASS"),
    "status.fail": ("不通过", "FAIL"),
    "status.error": ("未能检查", "ERROR"),
    "status.not_applicable": ("不适用", "N/A"),
    "severity.info": ("提示", "info"),
    "severity.low": ("低", "low"),
    "severity.medium": ("中", "medium"),
    "severity.high": ("高", "high"),
    "severity.critical": ("严重", "critical"),
}


def text(key: str, **values: Any) -> LocalText:
    """The message in both languages; a LocalText value is substituted in its own language."""
    zh, en = CATALOGUE[key]
    return LocalText(
        zh=zh.format(**{k: v.zh if isinstance(v, LocalText) else v for k, v in values.items()}),
        en=en.format(**{k: v.en if isinstance(v, LocalText) else v for k, v in values.items()}),
    )


def join(items: list[LocalText]) -> LocalText:
    return LocalText(zh="；".join(i.zh for i in items), en="; ".join(i.en for i in items))


def word(key: str, lang: Lang) -> str:
    return text(key).get(lang)


def detect_lang(environ: dict[str, str] | None = None) -> Lang:
    """Chinese where the user's locale is Chinese, English otherwise."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        current = locale.getlocale()[0] or ""
    except ValueError:
        current = ""
    return "zh" if current.lower().startswith(("zh", "chinese")) else "en"
