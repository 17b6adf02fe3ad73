"""What of a webhook URL may be shown to whom.

Webhook receivers (chat bots, ticket systems) usually put their credential in the URL's path
or query: whoever reads the whole URL can post into the unit's alert channel. So the page
shows the whole URL only to the administrator who set it (they know it anyway); everyone
else who may read the unit's settings (its other admins, auditors, admins above it,
superusers) sees scheme, host and port, enough to tell which service receives the alerts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

HIDDEN_REST = "/…"


def origin(url: str) -> str:
    """ "https://hooks.example:8443" of "https://hooks.example:8443/T0/secret?k=v"."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def shown(url: str) -> str:
    """The URL for a reader who did not set it: its origin, and a mark that more is hidden."""
    return origin(url) + HIDDEN_REST if url else ""


def without_url(text: str, url: str) -> str:
    """`text` (e.g. an HTTP client's error message) with the URL reduced to its origin."""
    return text.replace(url, shown(url)) if url else text
