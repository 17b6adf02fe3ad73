"""What every agent-facing view shares: CSRF exemption (agents authenticate by signature,
not cookies), the allowed methods, and turning a ProtocolError into its 4xx JSON answer.

Only ProtocolError becomes a 4xx. Anything else is a fault of the server (a database that is
down, a bug) and stays a 500: an agent keeps a report it got a 5xx for and sends it again
later, whereas a 4xx would make it set the report aside for good.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from agent.protocol.errors import ProtocolError

logger = logging.getLogger("server.api")

View = Callable[[HttpRequest], HttpResponse]


def refusal(error: ProtocolError) -> JsonResponse:
    body = {**error.extra, "error": error.reason, "detail": error.detail}
    return JsonResponse(body, status=error.http_status)


def agent_endpoint(*methods: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest) -> HttpResponse:
            try:
                return view(request)
            except ProtocolError as error:
                logger.info("refused %s %s: %s", request.method, request.path, error)
                return refusal(error)

        return csrf_exempt(require_http_methods(list(methods))(guarded))

    return decorate
