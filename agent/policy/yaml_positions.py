"""Read YAML into plain data while remembering the line each key and list item came from.

PyYAML's constructors drop positions and let a later duplicate key silently replace an
earlier one. A policy author needs `file:line` for every problem, and a second `severity:` in
a rule is a mistake that would otherwise go unnoticed. So PyYAML only composes the node graph
(which keeps marks) and this module builds the plain data, checking keys as it goes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from agent.errors import PolicyError, PolicyProblem
from agent.i18n import LocalText, text
from agent.policy.yaml_mistakes import explain

Path = tuple[str | int, ...]

# Aliases can make a small file expand into a huge document; a real policy has a few hundred
# nodes, so this only stops "billion laughs" files from exhausting the agent's memory.
MAX_NODES = 100_000

_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Finding:
    """A problem at a place in the document, before it is tied to a file name."""

    path: Path
    line: int
    reason: str
    reason_zh: str = ""

    @classmethod
    def local(cls, path: Path, line: int, reason: LocalText) -> Finding:
        return cls(path, line, reason.en, reason.zh)

    def to_problem(self, source: str) -> PolicyProblem:
        return PolicyProblem(
            file=source,
            line=self.line,
            key=dotted(self.path),
            reason=self.reason,
            reason_zh=self.reason_zh,
        )


def problem(source: str, line: int, reason: LocalText, key: str = "") -> PolicyProblem:
    """A PolicyProblem whose reason the loader has in both languages."""
    return PolicyProblem(source, line, key, reason.en, reason.zh)


@dataclass(frozen=True)
class YamlDocument:
    data: Any  # dicts with str keys, lists and scalars; None for an empty document
    lines: Mapping[Path, int]  # 1-based line of each mapping key and each list item
    raw_scalars: Mapping[Path, str]  # source text of the scalars that did not load as text
    findings: tuple[Finding, ...]  # duplicate keys, unsupported tags, ...

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 when none does)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


def dotted(path: Path) -> str:
    """("rules", 0, "match") -> "rules[0].match", the key format of PolicyProblem."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def kind_of(value: Any) -> str:
    """How a loaded value reads to a person: "a list", "a number", "nothing (...)"."""
    return local_kind_of(value).en


def local_kind_of(value: Any) -> LocalText:
    """`kind_of` in both languages."""
    if value is None:
        return LocalText("空值", "nothing (the value is empty)")
    if isinstance(value, bool):
        return LocalText("真/假值", "true/false")
    if isinstance(value, (int, float)):
        return LocalText("数字", "a number")
    if isinstance(value, (dt.date, dt.datetime)):
        return LocalText("日期", "a date")
    if isinstance(value, str):
        return LocalText("文字", "text")
    if isinstance(value, list):
        return LocalText("列表", "a list")
    if isinstance(value, dict):
        return LocalText("映射", "a mapping")
    return LocalText(type(value).__name__, type(value).__name__)


def read_yaml(data: bytes, source: str) -> YamlDocument:
    """Plain data with positions; PolicyError when the bytes are not one YAML document."""
    document_text = _decode(data, source)
    builder = _DataBuilder(source)
    documents = yaml.compose_all(document_text, Loader=yaml.SafeLoader)
    try:
        root = next(documents, None)
        second = next(documents, None)
        if second is not None:
            reason = text("yaml.second_document")
            raise PolicyError([problem(source, _line(second), reason)])
        value = None if root is None else builder.build(root, ())
    except yaml.MarkedYAMLError as exc:
        explanation = explain(exc, document_text)
        raise PolicyError([problem(source, explanation.line, explanation.reason)]) from exc
    except yaml.reader.ReaderError as exc:
        line = document_text.count("\n", 0, exc.position) + 1
        reason = text("yaml.bad_character", code=f"{exc.character:04X}")
        raise PolicyError([problem(source, line, reason)]) from exc
    if root is not None:
        builder.lines[()] = _line(root)
    return YamlDocument(value, builder.lines, builder.raw_scalars, tuple(builder.findings))


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = text("yaml.not_utf8", byte=f"{data[exc.start]:02x}")
        raise PolicyError([problem(source, line, reason)]) from exc


class _DataBuilder:
    """Turns composed nodes into dicts, lists and scalars, recording lines and findings."""

    def __init__(self, source: str) -> None:
        self.lines: dict[Path, int] = {}
        self.raw_scalars: dict[Path, str] = {}
        self.findings: list[Finding] = []
        self._constructor = yaml.constructor.SafeConstructor()  # scalars only: int, date, ...
        self._source = source
        self._open: set[int] = set()  # nodes being built: an alias back into one is a cycle
        self._count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            reason = text("yaml.too_big", limit=MAX_NODES)
            raise PolicyError([problem(self._source, _line(node), reason, dotted(path))])
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            self._find(path, _line(node), text("yaml.alias_cycle"))
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return self._sequence(node, path)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._find(path, _line(node), text("yaml.tag", tag=node.tag))
            return node.value
        try:
            value = self._constructor.construct_object(node)
        except (ValueError, yaml.constructor.ConstructorError):
            # Looks like a timestamp but is no real date (2026-13-40): keep the text.
            return node.value
        if not isinstance(value, str):
            self.raw_scalars[path] = node.value
        return value

    def _sequence(self, node: yaml.Node, path: Path) -> list[Any]:
        if node.tag != _SEQ_TAG:
            self._find(path, _line(node), text("yaml.tag", tag=node.tag))
        items: list[Any] = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            self.lines[item_path] = _line(item)
            items.append(self.build(item, item_path))
        return items

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            self._find(path, _line(node), text("yaml.tag", tag=node.tag))
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = _line(key_node)
            if key_node.tag == _MERGE_TAG:
                self._find(path, line, text("yaml.merge_key"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._find(path, line, text("yaml.complex_key"))
                continue
            key = key_node.value
            key_path = (*path, key)
            if key in result:
                first = self.lines[key_path]
                self._find(key_path, line, text("yaml.duplicate_key", name=key, first=first))
                continue
            self.lines[key_path] = line
            result[key] = self.build(value_node, key_path)
        return result

    def _find(self, path: Path, line: int, reason: LocalText) -> None:
        self.findings.append(Finding.local(path, line, reason))


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
