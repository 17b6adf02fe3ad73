"""Policies: upload or edit (validated, problems shown at their lines), versions with diffs,
assignment to a unit subtree."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from agent.policy.loader import MAX_POLICY_BYTES
from server.accounts import scope
from server.accounts.scope import restrict
from server.administration.access import actor, require_admin_of
from server.administration.forms import AssignForm, PolicyUploadForm
from server.administration.policy_store import (
    PolicyRejectedError,
    annotate,
    assign_policy,
    diff,
    store_policy,
    visible_policies,
)
from server.dashboard.access import administers, unit_or_404, user_of
from server.fleet.models import Policy, PolicyAssignment
from server.lib.ids import parse_id

SAFE_NAME = "policy.yaml"


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise Http404("not signed in")
    return request.user


def _context(request: HttpRequest, form: PolicyUploadForm) -> dict[str, Any]:
    user = user_of(request)
    policies = visible_policies(user).order_by("policy_id", "-uploaded_at", "-id")
    # One row per policy id and the subtree it belongs to: two counties' ids may be alike.
    groups: dict[tuple[str, str], list[Policy]] = {}
    for policy in policies.select_related("uploaded_by", "owner"):
        owner = policy.owner.path if policy.owner is not None else ""
        groups.setdefault((policy.policy_id, owner), []).append(policy)
    assignments = (
        restrict(PolicyAssignment.objects.all(), user, "unit")
        .select_related("unit", "policy", "assigned_by")
        .order_by("unit__path")
    )
    return {
        "groups": [(key[0], key[1], versions) for key, versions in sorted(groups.items())],
        "assignments": assignments,
        "form": form,
        "may_upload": administers(request),
        "admin_units": scope.units_administered_by(user).order_by("path"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def policies(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _upload(request)
    return render(request, "administration/policies.html", _context(request, PolicyUploadForm()))


def _source(upload: UploadedFile | None) -> str:
    """The file name shown in problems: the uploaded one's base name, or policy.yaml."""
    name = (upload.name or "") if upload is not None else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:100] if name else SAFE_NAME


def _upload(request: HttpRequest) -> HttpResponse:
    """1. admin somewhere (403); 2. the unit to assign to, if any, in scope (404) and
    administered (403); 3. validate and store; 4. assign; problems re-render the form."""
    if not administers(request):
        raise PermissionDenied("only administrators upload policies")
    form = PolicyUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "administration/policies.html", _context(request, form), status=400)
    unit = None
    if form.cleaned_data["unit"]:
        unit = unit_or_404(request, form.cleaned_data["unit"])
        require_admin_of(request, unit)
    upload = form.cleaned_data["file"]
    if upload is not None:
        data = upload.read(MAX_POLICY_BYTES + 1)
        text_for_display = data.decode("utf-8", errors="replace")
    else:
        text_for_display = form.cleaned_data["text"]
        data = text_for_display.encode("utf-8")
    source = _source(upload)
    try:
        policy, created = store_policy(data, source, _user(request), actor(request), unit)
    except PolicyRejectedError as rejected:
        # The text goes back into the textarea (an uploaded file's too), to be fixed in place.
        retry = PolicyUploadForm(
            initial={"text": text_for_display, "unit": form.cleaned_data["unit"]}
        )
        context = _context(request, retry)
        context["rejected"] = annotate(text_for_display, rejected.problems)
        context["rejected_source"] = source
        return render(request, "administration/policies.html", context, status=400)
    if created:
        messages.success(
            request,
            _("Policy %(id)s version %(version)s stored.")
            % {"id": policy.policy_id, "version": policy.version},
        )
    else:
        messages.info(request, _("This exact policy version was stored already."))
    if unit is not None:
        assign_policy(policy, unit, _user(request), actor(request))
        messages.success(
            request, _("Assigned to %(unit)s and the units below it.") % {"unit": unit.path}
        )
    return redirect("administration:policy", pk=policy.pk)


def _policy_or_404(request: HttpRequest, pk: int) -> Policy:
    policy = (
        visible_policies(user_of(request))
        .filter(pk=pk)
        .select_related("uploaded_by", "owner")
        .first()
    )
    if policy is None:
        raise Http404("no such policy")
    return policy


@login_required
@require_safe
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One version: its text with line numbers, the other versions, a diff, assignments."""
    policy = _policy_or_404(request, pk)
    user = user_of(request)
    versions = list(
        visible_policies(user)
        .filter(policy_id=policy.policy_id, owner=policy.owner)
        .order_by("-uploaded_at", "-id")
        .select_related("uploaded_by")
    )
    against = None
    if request.GET.get("against"):
        against = _policy_or_404(request, _int(request.GET["against"]))
    else:
        index = next(i for i, version in enumerate(versions) if version.pk == policy.pk)
        against = versions[index + 1] if index + 1 < len(versions) else None
    assignments = (
        restrict(PolicyAssignment.objects.filter(policy=policy), user, "unit")
        .select_related("unit", "assigned_by")
        .order_by("unit__path")
    )
    return render(
        request,
        "administration/policy.html",
        {
            "policy": policy,
            "versions": versions,
            "against": against,
            "diff": diff(against, policy) if against and against.pk != policy.pk else [],
            "numbered": annotate(policy.yaml_text, []),
            "assignments": assignments,
            "admin_units": scope.units_administered_by(user).order_by("path"),
            "edit_form": PolicyUploadForm(initial={"text": policy.yaml_text}),
        },
    )


def _int(text: str) -> int:
    number = parse_id(text)
    if number is None:
        raise Http404("no such policy")
    return number


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy_or_404(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        raise Http404("no such unit")
    unit = unit_or_404(request, form.cleaned_data["unit"])
    require_admin_of(request, unit)
    assign_policy(policy, unit, _user(request), actor(request))
    messages.success(
        request,
        _("%(id)s version %(version)s assigned to %(unit)s and the units below it.")
        % {"id": policy.policy_id, "version": policy.version, "unit": unit.path},
    )
    return redirect("administration:policy", pk=policy.pk)
