"""Agent configuration: where state lives and the asset fields the unit assigns.

Looked up in the OS's own places unless `--config` / CUSTOS_AGENT_CONFIG names a file:
Linux `/etc/custos/agent.yaml`, Windows `%ProgramData%\\Custos\\agent.yaml`, macOS
`/Library/Application Support/Custos/agent.yaml`. A missing default file is fine (defaults);
a named file that is missing or wrong is a ConfigError naming the file and key.

Example::

    state_dir: /var/lib/custos-agent
    policy: /etc/custos/policy.yaml      # local policy, until a server provides one
    lang: zh
    asset:
      machine_number: BJ-2026-0417
      responsible_person: 张三
      department: 办公室
      classification: 内部
      purpose: intranet
    # the service (`custos-agent run`); all optional
    watch_roots: [/media, /run/media, /mnt]   # where removable media get mounted
    spool_max_bytes: 52428800                # reports waiting for the server, at most
    full_refresh_days: 30                    # a full report at least this often
    check_interval_override: 600             # seconds; overrides the policy's schedule
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.facts import AssetFields
from agent.i18n import Lang
from agent.platforms import platform_name

CONFIG_ENV = "CUSTOS_AGENT_CONFIG"
STATE_ENV = "CUSTOS_AGENT_STATE"
ASSET_FIELD_NAMES = tuple(f.name for f in fields(AssetFields))
_KNOWN_KEYS = frozenset(
    {
        "state_dir",
        "policy",
        "lang",
        "asset",
        "watch_roots",
        "spool_max_bytes",
        "full_refresh_days",
        "check_interval_override",
    }
)
DEFAULT_SPOOL_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_FULL_REFRESH_DAYS = 30


@dataclass(frozen=True)
class AgentConfig:
    state_dir: Path
    asset: AssetFields
    policy_file: Path | None = None
    lang: Lang | None = None
    source: Path | None = None  # the file this came from, None for built-in defaults
    watch_roots: tuple[Path, ...] | None = None  # None: the OS's usual mount roots
    spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES
    full_refresh_days: int = DEFAULT_FULL_REFRESH_DAYS
    check_interval_override: float | None = None  # seconds; None: the policy's schedule


def _program_data() -> Path:
    return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Custos"


def default_config_path() -> Path:
    name = platform_name()
    if name == "windows":
        return _program_data() / "agent.yaml"
    if name == "macos":
        return Path("/Library/Application Support/Custos/agent.yaml")
    return Path("/etc/custos/agent.yaml")


def default_state_dir() -> Path:
    name = platform_name()
    if name == "windows":
        return _program_data() / "state"
    if name == "macos":
        return Path("/Library/Application Support/Custos/state")
    if os.geteuid() == 0:
        return Path("/var/lib/custos-agent")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "custos-agent"


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # only commands that read a config pay for the YAML parser

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read agent config: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the agent config must be a mapping of keys to values")
    return data


def _text(path: Path, key: str, value: Any) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"{path}: {key}: expected text, got {type(value).__name__}")


def _positive_seconds(path: Path, key: str, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise ConfigError(f"{path}: {key}: expected a positive number of seconds, got {value!r}")


def _positive_int(path: Path, key: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise ConfigError(f"{path}: {key}: expected a positive whole number, got {value!r}")


def _paths(path: Path, key: str, value: Any) -> tuple[Path, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key}: expected a list of directories")
    found = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{path}: {key}[{index}]: expected a directory path")
        directory = Path(item)
        found.append(directory if directory.is_absolute() else path.parent / directory)
    return tuple(found)


def load_config(config_file: Path | None = None, state_dir: Path | None = None) -> AgentConfig:
    """Built from (highest first): explicit arguments, environment, the config file, defaults."""
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = Path(os.environ[CONFIG_ENV])
    explicit = config_file is not None
    path = config_file if config_file is not None else default_config_path()
    data: dict[str, Any] = {}
    if explicit or path.exists():
        data = _read_yaml(path)
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: {unknown[0]}: unknown key (known: {', '.join(sorted(_KNOWN_KEYS))})"
        )
    asset_data = data.get("asset") or {}
    if not isinstance(asset_data, dict):
        raise ConfigError(f"{path}: asset: expected a mapping of asset fields")
    bad = sorted(set(asset_data) - set(ASSET_FIELD_NAMES))
    if bad:
        raise ConfigError(
            f"{path}: asset.{bad[0]}: unknown asset field (known: {', '.join(ASSET_FIELD_NAMES)})"
        )
    asset = AssetFields(**{k: _text(path, f"asset.{k}", v) for k, v in asset_data.items()})
    if state_dir is None and os.environ.get(STATE_ENV):
        state_dir = Path(os.environ[STATE_ENV])
    if state_dir is None and "state_dir" in data:
        state_dir = Path(_text(path, "state_dir", data["state_dir"]))
    lang: Lang | None = None
    if data.get("lang") is not None:
        if data["lang"] not in ("zh", "en"):
            raise ConfigError(f"{path}: lang: must be zh or en, not {data['lang']!r}")
        lang = "zh" if data["lang"] == "zh" else "en"
    policy_file = None
    if data.get("policy") is not None:
        policy_file = Path(_text(path, "policy", data["policy"]))
        if not policy_file.is_absolute():
            policy_file = path.parent / policy_file  # relative to the config file, not the cwd
    return AgentConfig(
        state_dir=state_dir or default_state_dir(),
        asset=asset,
        policy_file=policy_file,
        lang=lang,
        source=path if data or explicit else None,
        watch_roots=(
            _paths(path, "watch_roots", data["watch_roots"])
            if data.get("watch_roots") is not None
            else None
        ),
        spool_max_bytes=_positive_int(
            path, "spool_max_bytes", data.get("spool_max_bytes", DEFAULT_SPOOL_MAX_BYTES)
        ),
        full_refresh_days=_positive_int(
            path, "full_refresh_days", data.get("full_refresh_days", DEFAULT_FULL_REFRESH_DAYS)
        ),
        check_interval_override=(
            _positive_seconds(path, "check_interval_override", data["check_interval_override"])
            if data.get("check_interval_override") is not None
            else None
        ),
    )
