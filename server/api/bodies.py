"""Reading a request body no larger than a limit.

A declared Content-Length over the limit is refused before a byte of the body is read, so an
oversized upload costs the server no memory. The read itself is bounded too: Django's stream
stops at the declared length, and one byte over the limit is enough to refuse.
"""

from __future__ import annotations

from django.http import HttpRequest

from agent.protocol.errors import ProtocolError


def declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def read_body(request: HttpRequest, limit: int) -> bytes:
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise ProtocolError("too_large", f"Content-Length {declared} over the limit of {limit}")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise ProtocolError("too_large", f"body over the limit of {limit} bytes")
    return body
