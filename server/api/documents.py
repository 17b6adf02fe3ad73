"""GET /api/v1/policy and GET /api/v1/commands: what the server signs for a host.

The policy answer is signed for the asking host at this moment (agent.protocol.documents),
so it cannot be served to another host or replayed later. It carries an ETag (the policy's
sha256), so an agent that already holds the policy gets a 304 without the YAML; 204 says no
policy applies to the host's unit.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.http import parse_etags

from agent.protocol.documents import policy_response
from server.api.guard import agent_endpoint
from server.api.signed_requests import authenticated_host
from server.fleet.commands import signed_commands
from server.fleet.policies import effective_policy
from server.lib.server_key import current_server_key


@agent_endpoint("GET")
def policy_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    host = authenticated_host(request, now)
    policy = effective_policy(host.unit)
    if policy is None:
        return HttpResponse(status=204)
    etag = f'"{policy.sha256}"'
    wanted = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in wanted or "*" in wanted:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(
            policy_response(
                current_server_key(),
                host.host_id,
                policy.policy_id,
                policy.version,
                policy.yaml_text,
                now,
            )
        )
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@agent_endpoint("GET")
def commands_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    host = authenticated_host(request, now)
    return JsonResponse(signed_commands(host, now))
