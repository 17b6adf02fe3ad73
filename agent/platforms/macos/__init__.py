"""The macOS platform adapter; see `adapter.py` and the module of each fact."""

from agent.platforms.macos.adapter import MacOSAdapter

__all__ = ["MacOSAdapter"]
