"""Network namespaces for tests: an "office" and an "outside", joined by a veth pair.

Egress checks are only believable against a real network stack with real routes, so tests
build one: Linux network namespaces are private copies of the network (interfaces, routes,
sockets) that cost a few milliseconds and touch nothing on the host.

    require_netns()                      # pytest.skip with the reason when unusable
    with Namespace("office") as office, Namespace("outside") as outside:
        link(office, outside, "10.213.1.1/30", "10.213.1.2/30")
        office.add_default_route("10.213.1.2")
        server = outside.popen(["python3", "-m", "http.server", "8000"])
        office.run(["curl", "http://10.213.1.2:8000/"])

    with Namespace("lan") as lan, Namespace("pc1") as pc1:   # several PCs on one switch
        bridge = add_bridge(lan)
        attach_to_bridge(pc1, bridge, ["10.214.0.11/24", "fd14::11/64"], mac="02:00:00:00:00:11")

    with ResponderProcess.start(key_file, {"http": "10.213.1.2:0"}, log_file,
                                namespace=outside) as responder:
        responder.addresses["http"]      # ("10.213.1.2", 41234)

Safety, because these run as root on developer machines and CI hosts:
- names are unique per test run (`custos-t<pid>-<label>-<random>`), so parallel runs and
  other software's namespaces are never touched;
- veth ends are created directly inside the namespaces (`ip link add … netns …`), and every
  address and route is set inside them: nothing appears in the root namespace;
- a namespace is deleted when its `with` block ends, even on failure; its processes are
  stopped first (SIGTERM, then SIGKILL), since a live process would keep it alive unseen;
  anything still open at interpreter exit is closed by an atexit hook, and namespaces left by
  an earlier run that was killed outright (its pid is gone) are removed on first use.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NAME_PREFIX = "custos-t"
_STOP_GRACE_SECONDS = 5.0


def require_netns() -> None:
    """Skip the calling test, with the reason, when namespaces cannot be made here."""
    reason = netns_unavailable_reason()
    if reason:
        pytest.skip(reason)


@functools.cache
def netns_unavailable_reason() -> str:
    """Why this machine cannot run namespace tests ("" when it can); tried once per run."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "network namespace tests need root (ip netns add)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    name = f"{NAME_PREFIX}{os.getpid()}-canary-{secrets.token_hex(3)}"
    created = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        return f"cannot create a network namespace: {created.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    remove_stale_namespaces()
    return ""


def python_env(**extra: str) -> dict[str, str]:
    """The environment for child Pythons: this checkout importable, output unbuffered."""
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1", **extra}


class Namespace:
    """One network namespace with its loopback up; a context manager that deletes it."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.name = f"{NAME_PREFIX}{os.getpid()}-{label}-{secrets.token_hex(3)}"
        self._processes: list[subprocess.Popen[str]] = []
        self._closed = False
        _ip("netns", "add", self.name)
        _OPEN[self.name] = self
        self.run(["ip", "link", "set", "lo", "up"])

    def __enter__(self) -> Namespace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def exec_argv(self, argv: Sequence[str] = ()) -> list[str]:
        """`argv` prefixed to run inside (with no argv: the prefix, e.g. for `run_agent`)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 60.0,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside, wait for it, return its output (CalledProcessError if `check`)."""
        completed = subprocess.run(
            self.exec_argv(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
        if check and completed.returncode != 0:
            raise subprocess.CalledProcessError(
                completed.returncode, completed.args, completed.stdout, completed.stderr
            )
        return completed

    def popen(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdout: int | None = subprocess.DEVNULL,
        stderr: int | None = subprocess.DEVNULL,
    ) -> subprocess.Popen[str]:
        """Start `argv` inside; it is stopped when the namespace closes, if not before."""
        process = subprocess.Popen(
            self.exec_argv(argv),
            env=dict(env) if env is not None else None,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
        self._processes.append(process)
        return process

    def wait_for_tcp(self, host: str, port: int, timeout: float = 10.0) -> None:
        """Return once something inside accepts connections on host:port (a server is up)."""
        self.run([sys.executable, "-c", _WAIT_FOR_TCP, host, str(port), str(timeout)])

    def add_address(self, interface: str, cidr: str) -> None:
        _ip("-n", self.name, "address", "add", cidr, "dev", interface)

    def add_default_route(self, via: str) -> None:
        _ip("-n", self.name, "route", "add", "default", "via", via)

    def set_resolv_conf(self, text: str) -> None:
        """What `/etc/resolv.conf` says for programs run inside (ip netns exec mounts it)."""
        directory = _resolv_dir(self.name)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "resolv.conf").write_text(text, encoding="utf-8")

    def pids(self) -> tuple[int, ...]:
        listed = _ip("netns", "pids", self.name, check=False)
        return tuple(int(word) for word in listed.split())

    def close(self) -> None:
        """Stop what runs inside, delete the namespace (and its veth ends with it)."""
        if self._closed:
            return
        self._closed = True
        for process in self._processes:
            stop_process(process)
        _kill_all_inside(self.name)
        _ip("netns", "del", self.name, check=False)
        _remove_resolv_dir(self.name)
        _OPEN.pop(self.name, None)


@dataclass(frozen=True)
class Link:
    """A veth pair: `interface_a` with `address_a` in `a`, `interface_b` likewise in `b`."""

    a: Namespace
    interface_a: str
    address_a: str  # CIDR, e.g. "10.213.1.1/30"
    b: Namespace
    interface_b: str
    address_b: str

    @property
    def ip_a(self) -> str:
        return self.address_a.split("/")[0]

    @property
    def ip_b(self) -> str:
        return self.address_b.split("/")[0]


_link_numbers = iter(range(1, 1_000_000))


def link(a: Namespace, b: Namespace, address_a: str, address_b: str) -> Link:
    """Join `a` and `b` with a veth pair, address both ends (CIDR) and bring them up."""
    number = next(_link_numbers)
    interface_a = f"v{number}-{b.label}"[:15]
    interface_b = f"v{number}-{a.label}"[:15]
    _ip(
        "link", "add", interface_a, "netns", a.name, "type", "veth",
        "peer", "name", interface_b, "netns", b.name,
    )  # fmt: skip
    for namespace, interface, address in ((a, interface_a, address_a), (b, interface_b, address_b)):
        namespace.add_address(interface, address)
        _ip("-n", namespace.name, "link", "set", interface, "up")
    return Link(a, interface_a, address_a, b, interface_b, address_b)


@dataclass(frozen=True)
class Bridge:
    """A Linux bridge inside `namespace`: the office switch the PCs' veth ends are plugged in."""

    namespace: Namespace
    name: str


def add_bridge(namespace: Namespace, name: str = "br0") -> Bridge:
    _ip("-n", namespace.name, "link", "add", name, "type", "bridge")
    _ip("-n", namespace.name, "link", "set", name, "up")
    return Bridge(namespace, name)


def attach_to_bridge(
    pc: Namespace,
    bridge: Bridge,
    addresses: Sequence[str],
    *,
    mac: str | None = None,
    interface: str = "eth0",
) -> str:
    """Plug `pc` into `bridge` with a veth pair: `interface` inside `pc` (with `mac` if
    given, and each CIDR of `addresses`, IPv6 ones without duplicate address detection so
    they are usable at once), the other end a port of the bridge. Returns the port's name."""
    number = next(_link_numbers)
    port = f"p{number}-{pc.label}"[:15]
    hardware = ["address", mac] if mac else []
    _ip(
        "link", "add", interface, "netns", pc.name, *hardware, "type", "veth",
        "peer", "name", port, "netns", bridge.namespace.name,
    )  # fmt: skip
    _ip("-n", bridge.namespace.name, "link", "set", port, "master", bridge.name, "up")
    for cidr in addresses:
        extra = ["nodad"] if ":" in cidr else []
        _ip("-n", pc.name, "address", "add", cidr, "dev", interface, *extra)
    _ip("-n", pc.name, "link", "set", interface, "up")
    return port


class ResponderProcess:
    """`python -m agent.probes.responder` as a child, in the root namespace or in a test one.

    `start` returns once every listener has announced its address (port 0 picks one), so the
    caller never races the bind. The responder's log (one line per request) goes to `log_file`.
    """

    def __init__(
        self,
        process: subprocess.Popen[str],
        addresses: Mapping[str, tuple[str, int]],
        log_file: Path,
    ) -> None:
        self.process = process
        self.addresses = dict(addresses)
        self.log_file = log_file

    @classmethod
    def start(
        cls,
        key_file: Path,
        listen: Mapping[str, str],
        log_file: Path,
        *,
        namespace: Namespace | None = None,
        timeout: float = 15.0,
    ) -> ResponderProcess:
        argv = [sys.executable, "-m", "agent.probes.responder", "--key", str(key_file)]
        for kind, address in listen.items():
            argv += [f"--{kind}", address]
        with log_file.open("a", encoding="utf-8") as log:
            if namespace is None:
                process = subprocess.Popen(
                    argv, env=python_env(), stdout=subprocess.PIPE, stderr=log, text=True
                )
            else:
                process = namespace.popen(
                    argv, env=python_env(), stdout=subprocess.PIPE, stderr=log.fileno()
                )
        try:
            addresses = _announced_addresses(process, len(listen), timeout)
        except BaseException:
            stop_process(process)
            raise
        return cls(process, addresses, log_file)

    def url(self, path: str = "/") -> str:
        host, port = self.addresses["http"]
        return f"http://{_host_port(host, port)}{path}"

    def endpoint(self, kind: str) -> str:
        return _host_port(*self.addresses[kind])

    def log_lines(self) -> list[str]:
        return self.log_file.read_text(encoding="utf-8").splitlines()

    def stop(self) -> int | None:
        """SIGTERM, then the exit status (None if it had to be killed)."""
        return stop_process(self.process)

    def __enter__(self) -> ResponderProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def stop_process(process: subprocess.Popen[str]) -> int | None:
    """SIGTERM, wait a little, SIGKILL: the exit status, or None when it had to be killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            status = None
        else:
            status = process.returncode
    else:
        status = process.returncode
    return status


def remove_stale_namespaces() -> tuple[str, ...]:
    """Delete test namespaces whose creating process is gone (a run killed with SIGKILL)."""
    removed = []
    for name in list_namespaces():
        if not name.startswith(NAME_PREFIX):
            continue
        pid_text = name[len(NAME_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        _kill_all_inside(name)
        _ip("netns", "del", name, check=False)
        _remove_resolv_dir(name)
        removed.append(name)
    return tuple(removed)


def list_namespaces() -> tuple[str, ...]:
    """The names `ip netns list` shows (its lines may carry an "(id: N)" suffix)."""
    listed = _ip("netns", "list", check=False)
    return tuple(line.split()[0] for line in listed.splitlines() if line.strip())


# --- internals --------------------------------------------------------------------------

_OPEN: dict[str, Namespace] = {}

_WAIT_FOR_TCP = """
import socket, sys, time
host, port, deadline = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while True:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
"""


@atexit.register
def _close_all_open() -> None:
    for namespace in list(_OPEN.values()):
        namespace.close()


def _ip(*args: str, check: bool = True) -> str:
    completed = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and completed.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {completed.stderr.strip()}")
    return completed.stdout


def _kill_all_inside(name: str) -> None:
    for word in _ip("netns", "pids", name, check=False).split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(word), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_ETC_NETNS = Path("/etc/netns")


def _resolv_dir(name: str) -> Path:
    return _ETC_NETNS / name


def _remove_resolv_dir(name: str) -> None:
    shutil.rmtree(_resolv_dir(name), ignore_errors=True)
    with contextlib.suppress(OSError):  # still in use by another namespace: leave it
        _ETC_NETNS.rmdir()


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _announced_addresses(
    process: subprocess.Popen[str], count: int, timeout: float
) -> dict[str, tuple[str, int]]:
    """Read `listening <kind> <host>:<port>` lines until `count` arrived or `timeout` passed."""
    lines: queue.Queue[str | None] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None

    def pump() -> None:  # reads to the end, so the pipe is closed once the process exits
        with stdout:
            for line in stdout:
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    addresses: dict[str, tuple[str, int]] = {}
    while len(addresses) < count:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            raise RuntimeError(f"responder did not announce its listeners in {timeout} s") from None
        if line is None:
            raise RuntimeError(f"responder exited early with status {process.wait()}")
        words = line.split()
        if len(words) == 3 and words[0] == "listening":
            host, _, port = words[2].rpartition(":")
            addresses[words[1]] = (host.strip("[]"), int(port))
    return addresses
