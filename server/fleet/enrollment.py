"""Enrolling a machine: a valid token and a proven key make a new host in the token's unit.

Refusals, in the order they are checked (each a ProtocolError):
    bad_proof       the proof is not the offered key's signature over token + key
    token_invalid   no token has this hash
    token_revoked   an administrator revoked it
    token_expired   past its expiry
    token_used_up   no uses left (also when a concurrent enrollment took the last one)
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from agent.protocol.auth import check_enrollment_proof
from agent.protocol.errors import ProtocolError
from server.accounts import audit
from server.fleet import state
from server.fleet.identity import Identity
from server.fleet.models import EnrollmentToken, Host, HostStatus
from server.fleet.policies import effective_policy, report_interval
from server.fleet.tokens import token_digest


@dataclass(frozen=True)
class EnrollmentRequest:
    token: str
    public_key: bytes  # raw Ed25519, 32 bytes
    proof: str
    identity: Identity


def enroll(request: EnrollmentRequest, now: dt.datetime) -> Host:
    """The new host; the token's use is taken in the same transaction that creates it.

    1. The proof shows the caller holds the private half of the key it asks us to trust.
    2. The token row is locked (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE
       transaction already holds the write lock) and checked.
    3. One use is taken with a conditional UPDATE, so two enrollments can never both take the
       last use: the loser updates no row and is refused as token_used_up.
    4. The host is created with the interval of its unit's effective policy (its addresses
       recorded for the asset register), and audited.
    """
    check_enrollment_proof(request.token, request.public_key, request.proof)
    digest = token_digest(request.token)
    with transaction.atomic():
        token = (
            EnrollmentToken.objects.select_for_update(of=("self",))
            .select_related("unit")
            .filter(token_sha256=digest)
            .first()
        )
        if token is None:
            raise ProtocolError("token_invalid", "no such enrollment token")
        if token.revoked_at is not None:
            raise ProtocolError("token_revoked", "the enrollment token was revoked")
        if token.expires_at <= now:
            raise ProtocolError("token_expired", "the enrollment token has expired")
        taken = EnrollmentToken.objects.filter(pk=token.pk, uses_left__gt=0).update(
            uses_left=F("uses_left") - 1
        )
        if not taken:
            raise ProtocolError("token_used_up", "the enrollment token has no uses left")
        host = Host.objects.create(
            host_id="h_" + secrets.token_hex(16),
            unit=token.unit,
            public_key=request.public_key,
            enrolled_with=token,
            status=HostStatus.ACTIVE,
            first_seen=now,
            report_interval_seconds=report_interval(effective_policy(token.unit)),
            **request.identity.fields(),
        )
        state.replace_addresses(host)  # its own IPs and MACs, for the asset register
        audit.record(
            f"token:{token.pk}",
            "host.enroll",
            host.host_id,
            {
                "unit": token.unit.path,
                "hostname": host.hostname,
                "machine_id": host.machine_id,
            },
            at=now,
        )
    return host
