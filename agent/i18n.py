"""The agent's own words, in Chinese and English.

Every message an evaluator or the text sheet emits comes from this catalogue, so a missing
translation is a test failure, not a surprise in front of an auditor. Policy texts (rule titles,
remedies) come from the policy itself, which must give both languages. Words that name a code
(a field, a status, a severity) come from `agent.glossary`, which the server's pages use too.
"""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass
from typing import Any

from agent import glossary
from agent.glossary import Lang as Lang  # the two languages, re-exported for the agent


@dataclass(frozen=True)
class LocalText:
    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


CATALOGUE: dict[str, tuple[str, str]] = {
    # facts that could not be collected
    # A rule that could not be checked: the message names the cause in words; what the
    # source itself said (English OS or command text) is the finding's `evidence.error`,
    # shown apart as technical detail.
    "facts.unavailable": ("无法采集{what}：{cause}", "Could not collect {what}: {cause}"),
    # why: the kind of reason (errors.Cause), named in the message
    "cause.permission_denied": glossary.CAUSES["permission_denied"],
    "cause.command_missing": glossary.CAUSES["command_missing"],
    "cause.no_source": glossary.CAUSES["no_source"],
    "cause.timed_out": glossary.CAUSES["timed_out"],
    "cause.failed": glossary.CAUSES["failed"],
    # what to do about it: the remedy of a rule that could not be checked
    "advice.permission_denied": (
        "请以管理员身份（Linux、macOS 上为 root）重新运行检查",
        "Run the check again as administrator (root on Linux and macOS)",
    ),
    "advice.command_missing": (
        "请联系本单位信息化管理员安装所缺的程序（技术细节中写明）后重新自查；"
        "以管理员身份运行无济于事",
        "Ask your unit's IT administrator to install the missing program (the technical "
        "details name it), then run the check again; administrator rights will not help",
    ),
    "advice.no_source": (
        "请联系本单位信息化管理员开启这项记录（如系统日志）后重新自查；以管理员身份运行无济于事",
        "Ask your unit's IT administrator to turn this record on (e.g. the system log), then "
        "run the check again; administrator rights will not help",
    ),
    "advice.timed_out": (
        "请稍后重新运行检查；如仍超时请联系本单位信息化管理员",
        "Run the check again later; if it times out again, ask your unit's IT administrator",
    ),
    "advice.failed": (
        "请联系本单位信息化管理员根据技术细节查明原因后重新自查",
        "Ask your unit's IT administrator to find out why from the technical details, then "
        "run the check again",
    ),
    "what.software": glossary.COLLECTORS["software"],
    "what.processes": glossary.COLLECTORS["processes"],
    "what.services": glossary.COLLECTORS["services"],
    "what.media": glossary.COLLECTORS["media"],
    "what.network": glossary.COLLECTORS["network"],
    "what.host": glossary.COLLECTORS["host"],
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
        "已安装（{packages}），但无法判断是否运行：{cause}",
        "Installed ({packages}), but whether it runs is unknown: {cause}",
    ),
    "software.pattern_too_slow": (
        "无法检查：策略中的正则表达式 {pattern} 匹配超时，请修改策略",
        "Could not be checked: the policy's regular expression {pattern} ran out of "
        "matching time; the policy needs fixing",
    ),
    # forbidden software
    "forbidden.none": ("未发现违规软件", "No forbidden software found"),
    "forbidden.found": ("发现违规软件：{items}", "Forbidden software found: {items}"),
    "forbidden.unknown": (
        "未发现违规软件，但检查不完整：{cause}",
        "No forbidden software found, but the check is incomplete: {cause}",
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
        "无法读取移动存储接入记录：{cause}",
        "Removable-media history could not be read: {cause}",
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
    "internet.probes_error": ("互联网探测均未能执行", "None of the internet probes could run"),
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
    "sheet.host": glossary.FIELDS["hostname"],
    "sheet.os": glossary.FIELDS["os"],
    "sheet.ip": glossary.FIELDS["ip_addresses"],
    "sheet.mac": glossary.FIELDS["mac_addresses"],
    "sheet.disk": glossary.FIELDS["disk_serials"],
    "sheet.machine_number": glossary.FIELDS["machine_number"],
    "sheet.responsible_person": glossary.FIELDS["responsible_person"],
    "sheet.department": glossary.FIELDS["department"],
    "sheet.classification": glossary.FIELDS["classification"],
    "sheet.purpose": glossary.FIELDS["purpose"],
    "sheet.policy": glossary.FIELDS["policy"],
    "sheet.checked_at": glossary.FIELDS["checked_at"],
    "sheet.items": ("检查项目", "Items checked"),
    "sheet.todo": ("需要整改", "What to fix"),
    "sheet.unchecked": ("未能检查", "Could not be checked"),
    "sheet.result": ("结论", "Result"),
    "sheet.compliant": ("合规：全部 {passed} 项合格", "Compliant: all {passed} items passed"),
    "sheet.not_compliant": (
        "不合规：{failed} 项不合格，{errors} 项未能检查，{passed} 项合格",
        "Not compliant: {failed} failed, {errors} could not be checked, {passed} passed",
    ),
    "sheet.not_checked": (
        "未能检查，不计为合规：{errors} 项未能检查，{passed} 项合格",
        "Could not be checked, so not compliant: {errors} could not be checked, {passed} passed",
    ),
    "sheet.found": ("检查结果", "What was found"),
    "sheet.detail": ("技术细节", "Technical details"),
    "sheet.evidence": ("依据", "Evidence"),
    "sheet.remedy": ("处理办法", "What to do"),
    "sheet.default_remedy": (
        "请联系本单位信息化管理员处理后重新自查",
        "Ask your unit's IT administrator to fix this, then run the check again",
    ),
    "sheet.not_set": ("未登记", "not recorded"),
    "status.pass": glossary.STATUSES["pass"],
    "status.fail": glossary.STATUSES["fail"],
    "status.error": glossary.STATUSES["error"],
    "status.not_applicable": glossary.STATUSES["not_applicable"],
    "severity.info": glossary.SEVERITIES["info"],
    "severity.low": glossary.SEVERITIES["low"],
    "severity.medium": glossary.SEVERITIES["medium"],
    "severity.high": glossary.SEVERITIES["high"],
    "severity.critical": glossary.SEVERITIES["critical"],
    # `policy validate`
    "validate.valid": ("{path}：有效", "{path}: valid"),
    # `status --format text`
    "agent_status.enrolled": ("已注册", "enrolled"),
    "agent_status.host_id": ("主机ID", "host id"),
    "agent_status.server": ("服务器", "server"),
    "agent_status.policy": ("策略", "policy"),
    "agent_status.waiting": ("待发送报告", "waiting"),
    "agent_status.last_ack": ("最近确认", "last ack"),
    "agent_status.last_ack_value": ("序号 {seq}，时间 {at}", "seq {seq} at {at}"),
    "agent_status.quarantined": ("已隔离", "quarantined"),
    "agent_status.rejected": ("被拒收", "rejected"),
    "answer.yes": glossary.YES_NO["yes"],
    "answer.no": glossary.YES_NO["no"],
    # `inventory --format text`
    "inventory.host": glossary.FIELDS["hostname"],
    "inventory.os": glossary.FIELDS["os"],
    "inventory.os_value": ("{name} {version}，内核 {kernel}", "{name} {version}, kernel {kernel}"),
    "inventory.machine_id": ("系统机器标识", "Machine id"),
    "inventory.ip": glossary.FIELDS["ip_addresses"],
    "inventory.mac": glossary.FIELDS["mac_addresses"],
    "inventory.disks": glossary.FIELDS["disk_serials"],
    "inventory.users": ("用户", "Users"),
    "inventory.booted": ("开机时间", "Booted"),
    "inventory.software": ("已安装软件（{count}）", "Software ({count})"),
    "inventory.processes": ("运行中的进程（{count}）", "Processes ({count})"),
    "inventory.services": ("系统服务（{count}）", "Services ({count})"),
    "inventory.storage": ("移动存储设备（{count}）", "Removable storage ({count})"),
    "inventory.usb_devices": ("USB 设备（{count}）", "USB devices ({count})"),
    "inventory.usb_history": (
        "USB 接入记录（{count}，来源：{source}）",
        "USB history ({count}, source: {source})",
    ),
    "inventory.history_unavailable": ("无法读取：{reason}", "unavailable: {reason}"),
    "inventory.time_unknown": ("时间未知", "time unknown"),
    "inventory.no_serial": ("（无序列号）", "(no serial)"),
    "inventory.interfaces": ("网络接口", "Interfaces"),
    "inventory.up": ("启用", "up"),
    "inventory.down": ("停用", "down"),
    "inventory.default_routes": ("默认路由", "Default routes"),
    "inventory.route": (
        "{destination} 经 {gateway}，接口 {interface}",
        "{destination} via {gateway} dev {interface}",
    ),
    "inventory.dns": ("DNS 服务器", "DNS servers"),
    "inventory.connections": ("到外部地址的连接（{count}）", "External connections ({count})"),
    "inventory.connection": (
        "{remote} {process}（进程号 {pid}）",
        "{remote} {process} (pid {pid})",
    ),
    "inventory.neighbours": ("局域网邻居（{count}）", "LAN neighbours ({count})"),
    "inventory.neighbours_scope": (
        "仅限策略允许的网络：{networks}",
        "only inside the policy's allowed networks: {networks}",
    ),
    "inventory.neighbours_none_allowed": (
        "策略未列出允许的网络，不上报邻居",
        "the policy names no allowed networks: none reported",
    ),
    "inventory.neighbours_left_out": ("另有 {count} 个未列出", "{count} more not listed"),
    "inventory.errors": ("未能采集", "Could not collect"),
    # `enroll`
    "enroll.already": (
        "已注册为 {host_id}（服务器 {server}）；如需重新注册请加 --force",
        "already enrolled as {host_id} with {server}; use --force to enroll again",
    ),
    "enroll.plain_http_warning": (
        "警告：明文 http：报告仍有签名，但注册令牌和报告未加密传输",
        "warning: plain http: reports stay signed, but the enrollment token and reports "
        "travel unencrypted",
    ),
    "enroll.not_reached": (
        "注册失败，无法连接服务器：{reason}",
        "enrollment failed, server not reached: {reason}",
    ),
    "enroll.plain_http_server": (
        "注册失败：{address} 上的服务器使用明文 HTTP，而不是 HTTPS。请改用 {http_url}，"
        "或请服务器管理员在它前面配置 TLS",
        "enrollment failed: the server at {address} speaks plain HTTP, not HTTPS; use "
        "{http_url}, or ask its administrator to put TLS in front of it",
    ),
    "enroll.not_custos": (
        "注册失败：这个地址上没有 Custos 服务器（{url} 返回 HTTP {status}）。"
        "--server 应为服务器的根地址，例如 https://custos.example.cn:8400",
        "enrollment failed: no Custos server at this URL ({url} answered HTTP {status}); "
        "--server is the server's base address, e.g. https://custos.example.cn:8400",
    ),
    "enroll.refused": ("注册被拒绝：{reason}", "enrollment refused: {reason}"),
    "enroll.unusable": ("注册应答无法使用：{reason}", "enrollment answer unusable: {reason}"),
    "enroll.done": (
        "已注册：主机ID {host_id}，服务器 {server}，单位 {unit}",
        "enrolled: host id {host_id}, server {server}, unit {unit}",
    ),
    # policy files YAML cannot read: what to change (agent/policy/yaml_mistakes.py)
    "yaml.tab": (
        "这一行有制表符（Tab）：YAML 只能用空格缩进，请把制表符换成空格",
        "a tab character: indent with spaces (YAML does not allow tabs here)",
    ),
    "yaml.escape": (
        "双引号里的反斜杠（\\）会被当作转义符：请改用单引号括住这个值（如 '^vrv\\d+'），"
        "或把每个反斜杠写两遍",
        "a backslash inside double quotes starts an escape sequence: put the value in single "
        "quotes instead (e.g. '^vrv\\d+'), or double each backslash",
    ),
    "yaml.unclosed_quote": (
        "这一行开始的引号 {quote} 没有闭合：请在值的末尾补上 {quote}",
        "the quote {quote} opened on this line is not closed: end the value with {quote}",
    ),
    "yaml.unclosed_bracket": (
        "这一行开始的 {opening} 没有闭合：请用 {closing} 结束",
        "the {opening} opened on this line is not closed: end it with {closing}",
    ),
    "yaml.flow_entry": (
        "{opening} … {closing} 里的各项要用英文逗号分隔，含有冒号的值要加引号",
        "inside {opening} … {closing}, separate the entries with commas and put a value that "
        "contains ':' in quotes",
    ),
    "yaml.stray_closing": (
        "多出一个 {closing}：请删除它，或在值的开头补上 {opening}",
        "a {closing} without its {opening}: remove it, or open the value with {opening}",
    ),
    "yaml.space_after_colon": (
        "键后的冒号后面要有一个空格：请写成“{suggestion}”",
        "a key's colon needs a space after it: write `{suggestion}`",
    ),
    "yaml.missing_colon": (
        "键后面缺少冒号：请写成“{suggestion}”",
        "the colon after the key is missing: write `{suggestion}`",
    ),
    "yaml.not_key_value": (
        "这一行既不是“键: 值”，也不是以“- ”开头的列表项：请在键后加上冒号和空格",
        "this line is neither `key: value` nor a list item `- …`: put ': ' after the key",
    ),
    "yaml.block_indicator": (
        "“|”或“>”之后的文字要从下一行开始，并且比键缩进更多",
        "after '|' or '>' the text starts on the next line, indented more than the key",
    ),
    "yaml.block_text_indent": (
        "“{name}: |”下面的文字要比“{name}”缩进更多",
        "the text under `{name}: |` must be indented more than '{name}'",
    ),
    "yaml.colon_in_value": (
        "值里含有“: ”：请给整个值加引号，例如“{suggestion}”",
        "the value contains ': ': put the whole value in quotes, e.g. `{suggestion}`",
    ),
    "yaml.dash_space": (
        "列表项的“-”后面要有一个空格：请写成“{suggestion}”",
        "a list item needs a space after '-': write `{suggestion}`",
    ),
    "yaml.indented_more": (
        "这一行比上面的行缩进多：请把“{name}”与第 {line} 行的“{other}”对齐（第 {column} 列）",
        "this line is indented more than the lines above it: line up '{name}' with '{other}' "
        "on line {line} (column {column})",
    ),
    "yaml.indented_differently": (
        "这一行的缩进与上面的行不一致：请把“{name}”与第 {line} 行的“{other}”对齐（第 {column} 列）",
        "this line is indented differently from the lines above it: line up '{name}' with "
        "'{other}' on line {line} (column {column})",
    ),
    "yaml.item_indented_differently": (
        "这一项的缩进与上面的列表项不一致：请把“-”放在第 {column} 列，与第 {line} 行对齐",
        "this item is indented differently from the items above it: put its '-' in column "
        "{column}, like line {line}",
    ),
    "yaml.item_among_keys": (
        "这里是列表项（“- ”），但同一层上面是“键: 值”：同一层要么都是列表项，要么都是键",
        "a list item ('- ') among keys: at one indentation, either every line is a '- ' item "
        "or every line is a `key: value`",
    ),
    "yaml.text_after_quote": (
        "引号闭合后还有文字：请把整个值都放在引号里",
        "text after the closing quote: put the whole value inside the quotes",
    ),
    "yaml.missing_key": ("冒号前缺少键名", "a ':' with no key before it: write the key first"),
    "yaml.alias": (
        "以“*”开头的值会被当作对锚点（&名称）的引用：请给它加引号，例如 {suggestion}；"
        "正则表达式里“任意文字”写作“.*”",
        "a value that begins with '*' is read as a reference to an anchor (&name): put it in "
        "quotes, e.g. {suggestion}; in a regular expression, any text is '.*'",
    ),
    "yaml.reserved_start": (
        "值不能以“{char}”开头：请给整个值加引号",
        "a value cannot begin with '{char}': put the whole value in quotes",
    ),
    "yaml.other": (
        "YAML 语法错误：{detail}；请检查这一行和它上面的一行",
        "YAML syntax error: {detail}; check this line and the one above it",
    ),
    "yaml.not_utf8": (
        "不是 UTF-8 文本（字节 0x{byte}）：请把文件另存为 UTF-8 编码",
        "not UTF-8 text (byte 0x{byte}); save the file as UTF-8",
    ),
    "yaml.bad_character": (
        "YAML 中不允许出现字符 U+{code}：请删除它",
        "character U+{code} is not allowed in YAML; remove it",
    ),
    "yaml.second_document": (
        "一个策略文件只能有一个 YAML 文档；第二个文档从这里开始：请删除“---”及其后的内容",
        "a policy file holds one YAML document; a second one starts here: remove the '---' "
        "and what follows, or put it in a file of its own",
    ),
    "yaml.duplicate_key": (
        "键“{name}”重复（第 {first} 行已有）：请只保留一个",
        "duplicate key '{name}' (first at line {first}): keep one of them",
    ),
    "yaml.tag": (
        "不支持 YAML 标签 {tag}：请直接写值",
        "unsupported YAML tag {tag}; write plain values",
    ),
    "yaml.merge_key": (
        "不支持合并键（<<）：请把各个键直接写出来",
        "merge keys (<<) are not supported; write the keys out",
    ),
    "yaml.complex_key": (
        "键必须是简单的名称，不能是列表或映射",
        "a key must be a plain name, not a list or a mapping",
    ),
    "yaml.alias_cycle": (
        "这里的别名引用了包含它自身的值",
        "an alias here refers back to a value that contains it",
    ),
    "yaml.too_big": (
        "文档（经别名展开后）超过 {limit} 个值",
        "the document expands to more than {limit} values (through aliases)",
    ),
    "policy.empty": (
        "文件里没有策略：它是空的或只有注释",
        "the file holds no policy: it is empty or only comments",
    ),
    "policy.not_a_mapping": (
        "策略是由键（id、version、title……）组成的映射，而这里是{kind}",
        "a policy is a mapping of keys (id, version, title, ...), not {kind}",
    ),
    "policy.unreadable": ("无法读取文件：{reason}", "cannot read the file: {reason}"),
    "policy.too_large": (
        "文件有 {size} 字节，策略最大 {limit} KiB",
        "the file is {size} bytes; a policy is at most {limit} KiB",
    ),
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


def choose_lang(explicit: Lang | None, configured: Lang | None = None) -> Lang:
    """How every command picks its language: `--lang`, then the config's `lang`, then the
    locale."""
    return explicit or configured or detect_lang()


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
