"""Typed readers for the environment variables that configure the server.

Each reader returns a value of its type or raises `SettingError` naming the variable, the bad
value and what is allowed: a typo in a unit file must stop the server at start with a message
an operator can act on, not leave it running with a silently different setting.

An empty variable counts as unset, as env files and systemd `Environment=` lines often leave
them. Secrets may come from `NAME_FILE` (a path) instead of `NAME`, so they can live in files
that systemd credentials or container secrets provide rather than in the process environment.
"""

from __future__ import annotations

import ipaddress
import os
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

Environ = Mapping[str, str]

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class SettingError(ImproperlyConfigured):
    """An environment variable holds a value the server cannot use."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        self.name = name
        super().__init__(f"{name}={value!r}: {expected}")


def _raw(name: str, environ: Environ) -> str | None:
    value = environ.get(name, "")
    return value if value.strip() else None


def read_str(name: str, default: str, environ: Environ = os.environ) -> str:
    value = _raw(name, environ)
    return default if value is None else value.strip()


def read_bool(name: str, default: bool, environ: Environ = os.environ) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingError(name, value, f"expected one of {', '.join(_TRUE + _FALSE)}")


def read_int(
    name: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
    environ: Environ = os.environ,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else " upwards")
    try:
        number = int(value.strip(), 10)
    except ValueError:
        raise SettingError(name, value, f"expected a whole number {bounds}") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise SettingError(name, value, f"expected a whole number {bounds}")
    return number


def read_choice(
    name: str, default: str, choices: Sequence[str], environ: Environ = os.environ
) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    word = value.strip()
    if word not in choices:
        raise SettingError(name, value, f"expected one of {', '.join(choices)}")
    return word


def read_list(name: str, default: Sequence[str], environ: Environ = os.environ) -> list[str]:
    """A comma-separated list; blanks around items are dropped, and so are empty items."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise SettingError(name, value, "expected a comma-separated list with at least one item")
    return items


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def read_networks(name: str, environ: Environ = os.environ) -> tuple[IPNetwork, ...]:
    """A comma-separated list of IP addresses and CIDR networks (an address is a network of
    one); () when unset. Host bits set under a prefix ("10.0.0.1/8") are refused: such a
    typo would trust more, or other, addresses than meant."""
    value = _raw(name, environ)
    if value is None:
        return ()
    networks = []
    for item in read_list(name, (), environ):
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise SettingError(
                name, value, f"{item!r} is not an IP address or network ({exc})"
            ) from None
    return tuple(networks)


def read_base_url(name: str, environ: Environ = os.environ) -> str:
    """An http(s) address with a host and at most a path ("" when unset), without its
    trailing slash, so that links are made by appending "/hosts/…"."""
    value = _raw(name, environ)
    if value is None:
        return ""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError(name, value, "expected http(s)://host[:port][/path]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SettingError(name, value, "expected no query, fragment or credentials")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise SettingError(name, value, f"bad port: {exc}") from exc
    return value.strip().rstrip("/")


def read_path(name: str, default: Path, environ: Environ = os.environ) -> Path:
    """An absolute path (`~` expanded): a relative one would depend on the service's cwd."""
    value = _raw(name, environ)
    if value is None:
        return default
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise SettingError(name, value, "expected an absolute path")
    return path


def read_time_zone(name: str, default: str, environ: Environ = os.environ) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    zone = value.strip()
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            name, value, "expected an IANA time zone such as Asia/Shanghai"
        ) from None
    return zone


def read_secret(name: str, environ: Environ = os.environ) -> str | None:
    """`NAME`, or the contents of the file `NAME_FILE` names (one trailing newline dropped)."""
    value = _raw(name, environ)
    file_name = _raw(f"{name}_FILE", environ)
    if value is not None and file_name is not None:
        raise SettingError(f"{name}_FILE", file_name, f"set either {name} or {name}_FILE, not both")
    if file_name is None:
        return value
    try:
        text = Path(file_name.strip()).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingError(f"{name}_FILE", file_name, f"cannot read the file: {exc}") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text.strip():
        raise SettingError(f"{name}_FILE", file_name, "the file is empty")
    return text
