#!/usr/bin/env python3
"""Runs README's main command verbatim, as a new user would, and checks that the demo it starts
really works: /healthz answers, the login page loads, the login it printed signs in, and Ctrl-C
stops it (the demo and the server it started) with exit status 0.

Run from the checkout's root with the machine's own python3 (stdlib only: on a fresh Debian
nothing else is there yet): `python3 .ci/demo_check.py`. Part of `.ci/fresh-debian`.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
URL = "http://127.0.0.1:8400"  # the demo's default, which README's command does not change
PORT = 8400
# A first run installs python3-venv and the server's packages before the demo starts.
START_TIMEOUT = 900.0
STOP_TIMEOUT = 60.0
LOGIN_LINE = re.compile(r"^login: (\S+)\s+password: (\S+)\s*$", re.MULTILINE)


class DemoCheckError(Exception):
    """The demo did not do what README promises; the message says what, the log says why."""


def port_is_free(port: int) -> bool:
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def readme_main_command() -> str:
    return subprocess.run(
        [str(CHECKOUT / ".ci" / "readme-command"), "main"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


class Demo:
    """README's main command in its own session, its output collected (and echoed) as it comes."""

    def __init__(self, command: str) -> None:
        self.output: list[str] = []
        # A terminal's Ctrl-C reaches the whole foreground process group with SIGINT at its
        # default disposition; a child of a script may inherit it ignored, so reset it.
        self.process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=CHECKOUT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stream = self.process.stdout
        if stream is None:  # never: stdout is a pipe
            return
        for line in stream:
            self.output.append(line)
            sys.stdout.write(f"  demo| {line}")
            sys.stdout.flush()

    def text(self) -> str:
        return "".join(self.output)

    def press_ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired as timeout:
            raise DemoCheckError(
                f"the demo did not stop within {STOP_TIMEOUT:.0f} s of Ctrl-C"
            ) from timeout

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._reader.join(5)


def wait_for_login_line(demo: Demo) -> tuple[str, str]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = LOGIN_LINE.search(demo.text())
        if found:
            return found.group(1), found.group(2)
        if demo.process.poll() is not None:
            raise DemoCheckError(
                f"the demo exited with status {demo.process.returncode} before printing a login"
            )
        time.sleep(1)
    raise DemoCheckError(f"the demo printed no login within {START_TIMEOUT:.0f} s")


def get(opener: urllib.request.OpenerDirector, path: str) -> tuple[int, str, str]:
    """(status, final URL, body) of a GET, following redirects."""
    try:
        with opener.open(URL + path, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.geturl(), error.read().decode("utf-8", "replace")


def check_the_server_answers_and_the_login_works(user: str, password: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, _, body = get(opener, "/healthz")
    if status != 200:
        raise DemoCheckError(f"GET /healthz answered {status}: {body[:300]}")
    status, _, page = get(opener, "/login/")
    if status != 200:
        raise DemoCheckError(f"GET /login/ answered {status}")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise DemoCheckError("the login page has no CSRF token: not the login form?")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": user, "password": password}
    ).encode()
    # URL is the fixed http://127.0.0.1 address above, never a file: or other scheme.
    request = urllib.request.Request(URL + "/login/", data=form, method="POST")  # noqa: S310
    request.add_header("Referer", URL + "/login/")
    try:
        with opener.open(request, timeout=30) as response:
            status, landed = response.status, response.geturl()
    except urllib.error.HTTPError as error:
        raise DemoCheckError(f"signing in answered {error.code}") from error
    if status != 200 or urllib.parse.urlsplit(landed).path.startswith("/login/"):
        raise DemoCheckError(f"signing in as {user} with the printed password failed ({landed})")
    print(f"demo_check: /healthz 200, /login/ 200, signed in as {user} -> {landed}")


def main() -> int:
    if not port_is_free(PORT):
        print(
            f"demo_check: port {PORT} is in use on this machine; README's command needs it free",
            file=sys.stderr,
        )
        return 1
    command = readme_main_command()
    print(f"demo_check: README's main command, verbatim: {command}", flush=True)
    started = time.monotonic()
    demo = Demo(command)
    try:
        user, password = wait_for_login_line(demo)
        print(f"demo_check: the demo printed its login after {time.monotonic() - started:.0f} s")
        check_the_server_answers_and_the_login_works(user, password)
        status = demo.press_ctrl_c()
        if status != 0:
            raise DemoCheckError(f"after Ctrl-C the demo exited with status {status}")
        for _ in range(50):
            if port_is_free(PORT):
                break
            time.sleep(0.2)
        else:
            raise DemoCheckError(f"after Ctrl-C something still listens on port {PORT}")
    except DemoCheckError as failure:
        print(f"demo_check: FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        demo.kill()
    print(f"demo_check: passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
