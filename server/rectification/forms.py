"""Forms of the rectification pages; labels are translated, values come back cleaned."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from server.rectification.actions import MAX_OVERRIDE_REASON, MAX_REMARK
from server.rectification.models import Status
from server.rectification.spot_checks import DEFAULT_HOURS, MAX_HOURS, MIN_HOURS


class DateInput(forms.DateInput):
    input_type = "date"


class IssueForm(forms.Form):
    responsible_person = forms.CharField(label=_("Person responsible"), max_length=255)
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput(format="%Y-%m-%d"))
    remark = forms.CharField(
        label=_("Requirement and remarks"),
        required=False,
        max_length=MAX_REMARK,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CloseForm(forms.Form):
    override_reason = forms.CharField(
        label=_("Reason for closing without a passing re-check"),
        required=False,
        max_length=MAX_OVERRIDE_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SpotCheckForm(forms.Form):
    """Either a host (`host_id`) or a unit (`unit`): the whole subtree is asked."""

    host_id = forms.CharField(required=False, max_length=34, widget=forms.HiddenInput)
    unit = forms.IntegerField(label=_("Unit"), required=False, min_value=1)
    hours = forms.IntegerField(
        label=_("Hosts may answer within (hours)"),
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        initial=DEFAULT_HOURS,
        required=False,
    )


STATUS_FILTERS = (
    ("", _("not closed")),
    (Status.OPEN.value, _("open")),
    (Status.RECHECKED.value, _("re-checked")),
    (Status.CLOSED.value, _("closed")),
    ("all", _("all")),
)
