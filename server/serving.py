"""`custos-server run`: gunicorn in this process, gthread workers, plus the sweeper thread.

gunicorn's BaseApplication lets the server start without a config file or a second command
line: the options come from `custos-server run`, the WSGI app is `server.wsgi`. The master
process handles signals: SIGTERM stops the workers gracefully and exits 0, after `on_exit`
has stopped the sweeper.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from server.sweeper import Sweeper, sweep_and_close

DEFAULT_WORKERS = 2
THREADS_PER_WORKER = 4
GRACEFUL_SECONDS = 10


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class CustosServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from server.wsgi import application

        return application


def serve(host: str, port: int, workers: int, sweeper: Sweeper | None = None) -> None:
    """Serve until SIGTERM or SIGINT; gunicorn ends the process with sys.exit(0)."""
    background = sweeper or Sweeper(sweep_and_close)

    def when_ready(_server: object) -> None:
        background.start()

    def on_exit(_server: object) -> None:
        background.stop()

    options: dict[str, Any] = {
        "bind": [bind_address(host, port)],
        "workers": workers,
        "worker_class": "gthread",
        "threads": THREADS_PER_WORKER,
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": 60,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "custos-server",
        "when_ready": when_ready,
        "on_exit": on_exit,
    }
    CustosServer(options).run()
