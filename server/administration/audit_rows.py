"""The audit log as a person reads it: who, did what, to what, with which details, in words.

Entries keep their codes (`user:wang`, `rectification.issue`, `rectification:12`, `deadline`),
which the hash chain covers and the filters search; the page shows words for them: the
person's name, "签发整改通知", "整改通知 #12", "整改期限", and times on the server's clock.
A code this module does not know is shown as it is, so a new action is never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agent import glossary
from server.accounts.actors import actor_names
from server.accounts.models import AuditEntry
from server.dashboard.labels import glossary_labels
from server.lib.local_time import SECOND, local_text, parse_agent_time

ACTIONS: dict[str, Promise] = {
    "alerts.language": gettext_lazy("chose the language of alert e-mails"),
    "alerts.settings": gettext_lazy("changed alert settings"),
    "command.recheck": gettext_lazy("asked a host to check again"),
    "host.clone_suspected": gettext_lazy("flagged a suspected clone"),
    "host.enroll": gettext_lazy("enrolled a host"),
    "membership.add": gettext_lazy("gave a role"),
    "membership.change": gettext_lazy("changed a role"),
    "membership.delete": gettext_lazy("took a role away"),
    "policy.add": gettext_lazy("stored a policy"),
    "policy.assign": gettext_lazy("assigned a policy"),
    "rectification.close": gettext_lazy("closed a rectification notice"),
    "rectification.issue": gettext_lazy("issued a rectification notice"),
    "rectification.recheck": gettext_lazy("re-check passed"),
    "rectification.reopen": gettext_lazy("failed again after the re-check"),
    "snapshot.create": gettext_lazy("took a snapshot"),
    "spotcheck.request": gettext_lazy("requested a spot check"),
    "token.create": gettext_lazy("created an enrollment token"),
    "token.revoke": gettext_lazy("revoked an enrollment token"),
    "unit.add": gettext_lazy("added a unit"),
    "unit.delete": gettext_lazy("deleted a unit"),
    "user.add": gettext_lazy("added a user"),
    "user.change": gettext_lazy("changed a user"),
    "user.delete": gettext_lazy("deleted a user"),
    "user.login": gettext_lazy("signed in"),
    "user.login_throttled": gettext_lazy("sign-in blocked after repeated failures"),
    "user.logout": gettext_lazy("signed out"),
}
_FIELDS = glossary_labels(glossary.FIELDS)  # the words the check sheet uses for the same
DETAIL_KEYS: dict[str, Promise] = {
    "address": gettext_lazy("Address"),
    "command": gettext_lazy("Command"),
    "created_at": gettext_lazy("Created"),
    "deadline": gettext_lazy("Deadline"),
    "digest_hour": gettext_lazy("Digest hour"),
    "email": gettext_lazy("E-mail"),
    "expires_at": gettext_lazy("Expires"),
    "file": gettext_lazy("File"),
    "host": gettext_lazy("Host"),
    "hostname": _FIELDS["hostname"],
    "hosts": gettext_lazy("Hosts"),
    "language": gettext_lazy("Language"),
    "machine_id": gettext_lazy("Machine id"),
    "mode": gettext_lazy("Sending"),
    "override_reason": gettext_lazy("Reason"),
    "parent": gettext_lazy("Parent unit"),
    "password_set": gettext_lazy("Password set"),
    "policy": _FIELDS["policy"],
    "previous": gettext_lazy("Before"),
    "reason": gettext_lazy("Reason"),
    "report_seq": gettext_lazy("Report"),
    "reports": gettext_lazy("Reports"),
    "responsible_person": _FIELDS["responsible_person"],
    "role": gettext_lazy("Role"),
    "rule": _FIELDS["rule"],
    "sha256": gettext_lazy("SHA-256"),
    "spot_check": gettext_lazy("Spot check"),
    "unit": _FIELDS["unit"],
    "user": gettext_lazy("User"),
    "uses": gettext_lazy("Uses"),
    "version": gettext_lazy("Version"),
    "webhook_host": gettext_lazy("Webhook"),
}
ROLES: dict[str, Promise] = {
    "admin": gettext_lazy("administrator"),
    "auditor": gettext_lazy("auditor"),
}
_TARGET_KINDS: dict[str, Promise] = {
    "rectification": gettext_lazy("rectification notice #%(id)s"),
    "token": gettext_lazy("enrollment token #%(id)s"),
}
MAX_VALUE = 300


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    actor: str
    action: str
    target: str
    details: list[tuple[str, str]]


def _value(key: str, value: Any) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value is None or value == "":
        return "—"
    if key == "role" and str(value) in ROLES:
        return str(ROLES[str(value)])
    moment = parse_agent_time(value)
    if moment is not None:
        return local_text(moment, SECOND)
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(key, item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_value(str(k), v)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def _target(target: str, names: Mapping[str, str]) -> str:
    kind, _sep, rest = target.partition(":")
    if kind in _TARGET_KINDS and rest:
        return str(_TARGET_KINDS[kind]) % {"id": rest}
    if kind == "user" and rest:
        return names.get(target, rest)
    return names.get(f"host:{target}", target) if target.startswith("h_") else target


def action_words(action: str) -> str:
    words = ACTIONS.get(action)
    return str(words) if words is not None else action


def audit_rows(entries: Iterable[AuditEntry]) -> list[AuditRow]:
    """One page of entries in words (users and hosts looked up once for the page)."""
    listed = list(entries)
    codes = {entry.actor for entry in listed}
    codes |= {e.target for e in listed if e.target.startswith("user:")}
    codes |= {f"host:{e.target}" for e in listed if e.target.startswith("h_")}
    names = actor_names(codes)
    rows = []
    for entry in listed:
        details = entry.details if isinstance(entry.details, Mapping) else {}
        rows.append(
            AuditRow(
                entry=entry,
                actor=names.get(entry.actor, entry.actor),
                action=action_words(entry.action),
                target=_target(entry.target, names),
                details=[
                    (str(DETAIL_KEYS.get(str(key), key)), _value(str(key), value))
                    for key, value in details.items()
                ],
            )
        )
    return rows
