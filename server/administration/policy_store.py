"""Policies from the dashboard: validate (every problem at its line), store versions, assign.

The agent's own loader (`agent.policy.loader`) judges a policy, so the dashboard accepts
exactly what agents will run. Unlike `server.fleet.policies.add_policy` (the command line's
one-step "store and assign"), storing and assigning are separate here: an admin uploads or
edits a version, reads its diff, and then assigns it to a unit subtree.

Which policies a user sees: those assigned to a unit they see or to a unit above theirs (the
baseline their hosts inherit), those whose id belongs to a unit they see (`Policy.owner`),
and those they uploaded; a superuser sees all.

A policy id belongs to the uploader's administered subtree, so what an upload answers
depends only on policies the uploader sees: the same id and version in another county is
neither refused nor reused, and no message names it (issue 9, item 13).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from agent.errors import PolicyError, PolicyProblem
from agent.policy.loader import MAX_POLICY_BYTES, load_policy_bytes
from server.accounts import audit, scope
from server.accounts.models import Membership, Unit
from server.accounts.models.units import PATH_SEPARATOR
from server.dashboard.access import tops_of
from server.fleet.models import Policy, PolicyAssignment
from server.fleet.policies import refresh_report_intervals


class PolicyRejectedError(Exception):
    """The text is not a policy agents would run; `problems` says where and why."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def _problem(source: str, reason: str, line: int = 0) -> PolicyProblem:
    return PolicyProblem(source, line, "", reason)


def owner_for(user: User, unit: Unit | None) -> Unit | None:
    """The subtree a new policy id of `user` belongs to: none (shared) for a superuser, else
    the top of their administered subtrees that holds `unit` (the first, without a unit)."""
    if user.is_superuser:
        return None
    tops = tops_of(scope.units_administered_by(user))
    if unit is not None:
        for top in tops:
            if unit.path == top.path or unit.path.startswith(top.path + PATH_SEPARATOR):
                return top
    return tops[0] if tops else None


def store_policy(
    data: bytes, source: str, user: User, actor: str, unit: Unit | None = None
) -> tuple[Policy, bool]:
    """The stored version for `data` and whether it is new (`unit`: where it will be
    assigned, which decides the subtree its id belongs to).

    1. Size and encoding, then the agent's loader: every problem comes back with its line.
    2. (id, version) names one text in what the user sees: the same pair with other content
       is refused, because agents and exports identify a policy by id and version.
    3. Identical text the user sees is the stored version, not a new row.
    4. Else a new row in the owner's subtree, whose policies the user all sees, so the
       database's uniqueness can only refuse an upload that raced this one.
    """
    if len(data) > MAX_POLICY_BYTES:
        limit = {"size": MAX_POLICY_BYTES // 1024}
        raise PolicyRejectedError(
            [_problem(source, _("the file is larger than %(size)s KiB") % limit)]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyRejectedError([_problem(source, _("a policy file is UTF-8 text"))]) from None
    try:
        loaded = load_policy_bytes(data, source)
    except PolicyError as exc:
        raise PolicyRejectedError(list(exc.problems)) from None
    owner = owner_for(user, unit)
    clash = _problem(
        source,
        _(
            "version %(version)s of policy %(id)s is stored with other content: "
            "give the changed policy a new version"
        )
        % {"version": loaded.version, "id": loaded.id},
        _version_line(text),
    )
    with transaction.atomic():
        seen = list(
            visible_policies(user)
            .filter(policy_id=loaded.id, version=loaded.version)
            .order_by("id")
        )
        if any(existing.sha256 != loaded.sha256 for existing in seen):
            raise PolicyRejectedError([clash])
        if seen:
            same_owner = [existing for existing in seen if existing.owner_id == _pk(owner)]
            return (same_owner or seen)[0], False
        try:
            with transaction.atomic():
                policy = Policy.objects.create(
                    policy_id=loaded.id,
                    version=loaded.version,
                    yaml_text=text,
                    sha256=loaded.sha256,
                    uploaded_by=user,
                    owner=owner,
                )
        except IntegrityError:
            raise PolicyRejectedError([clash]) from None
        audit.record(
            actor,
            "policy.add",
            f"{loaded.id} {loaded.version}",
            {"sha256": loaded.sha256, "policy": policy.pk}
            | ({"unit": owner.path} if owner is not None else {}),
        )
    return policy, True


def _pk(unit: Unit | None) -> int | None:
    return unit.pk if unit is not None else None


def _version_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("version:"):
            return number
    return 0


def assign_policy(policy: Policy, unit: Unit, user: User, actor: str) -> PolicyAssignment:
    """Make `policy` the one of `unit`'s subtree (units below with their own keep theirs).

    Hosts learn it from the answer to their next report (the API names the effective policy);
    their expected report interval changes now, so the silent-host sweep keeps pace.
    """
    with transaction.atomic():
        previous = PolicyAssignment.objects.filter(unit=unit).select_related("policy").first()
        assignment, _created = PolicyAssignment.objects.update_or_create(
            unit=unit, defaults={"policy": policy, "assigned_by": user}
        )
        audit.record(
            actor,
            "policy.assign",
            unit.path,
            {
                "unit": unit.path,
                "policy": policy.policy_id,
                "version": policy.version,
                "sha256": policy.sha256,
                "previous": f"{previous.policy.policy_id} {previous.policy.version}"
                if previous
                else None,
            },
        )
        refresh_report_intervals(unit)
    return assignment


def visible_policies(user: User | AnonymousUser) -> QuerySet[Policy]:
    if not isinstance(user, User) or not user.is_active:
        return Policy.objects.none()
    if user.is_superuser:
        return Policy.objects.all()
    member_paths = Membership.objects.filter(user=user).values_list("unit__path", flat=True)
    above = {path for unit_path in member_paths for path in _ancestors(unit_path)}
    assigned = PolicyAssignment.objects.filter(
        Q(unit__in=scope.units_visible_to(user)) | Q(unit__path__in=sorted(above))
    ).values("policy_id")
    return Policy.objects.filter(
        Q(pk__in=assigned) | Q(owner__in=scope.units_visible_to(user)) | Q(uploaded_by=user)
    )


def _ancestors(path: str) -> list[str]:
    parts = path.split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(parts[:index]) for index in range(1, len(parts))]


# --- presenting a policy's text ----------------------------------------------------------


@dataclass
class NumberedLine:
    number: int
    text: str
    problems: list[str] = field(default_factory=list)


@dataclass
class Annotated:
    lines: list[NumberedLine]
    general: list[str]  # problems without a line (or past the end of the text)

    @property
    def problem_count(self) -> int:
        return len(self.general) + sum(len(line.problems) for line in self.lines)

    @property
    def located(self) -> list[tuple[int, str]]:
        """(line number, problem) in line order: the summary that links to each line."""
        return [(line.number, problem) for line in self.lines for problem in line.problems]


def annotate(text: str, problems: list[PolicyProblem]) -> Annotated:
    """The text as numbered lines, each with the problems the loader located on it."""
    lines = [NumberedLine(n, line) for n, line in enumerate(text.splitlines(), start=1)]
    general: list[str] = []
    # The loader explains YAML slips in Chinese too (agent/policy/yaml_mistakes.py); the
    # other problems it words in English only.
    lang = "zh" if (translation.get_language() or "").startswith("zh") else "en"
    for problem in problems:
        reason = problem.reason_in(lang)
        message = f"{problem.key}: {reason}" if problem.key else reason
        if 1 <= problem.line <= len(lines):
            lines[problem.line - 1].problems.append(message)
        else:
            general.append(message)
    return Annotated(lines, general)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx", "hunk", "head"
    text: str


def diff(old: Policy, new: Policy) -> list[DiffLine]:
    """A unified diff of two versions as typed lines; the template escapes the text."""
    out: list[DiffLine] = []
    for line in difflib.unified_diff(
        old.yaml_text.splitlines(),
        new.yaml_text.splitlines(),
        fromfile=f"{old.policy_id} {old.version}",
        tofile=f"{new.policy_id} {new.version}",
        lineterm="",
    ):
        if line.startswith(("---", "+++")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append(DiffLine(kind, line))
    return out
