"""Which host signed a GET request (`Authorization: Custos host_id=…, ts=…, sig=…`).

The signature covers the method, the path with its query string and the timestamp; checking
it is agent.protocol.auth's job. The path is the one the client sent, including any prefix a
reverse proxy mounts the server under (`request.get_full_path()`).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest

from agent.protocol.auth import check_request, parse_authorization
from agent.protocol.errors import ProtocolError
from server.fleet.models import Host, HostStatus


def authenticated_host(request: HttpRequest, now: dt.datetime) -> Host:
    host_id, stamp, signature = parse_authorization(request.headers.get("Authorization", ""))
    host = Host.objects.filter(host_id=host_id).select_related("unit").first()
    if host is None:
        raise ProtocolError("unknown_host", f"no host {host_id} is enrolled here")
    if host.status == HostStatus.REVOKED:
        raise ProtocolError("host_revoked", f"host {host_id} was revoked")
    method = request.method or "GET"
    check_request(bytes(host.public_key), method, request.get_full_path(), stamp, signature, now)
    return host
