"""Forms of the administration pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agent.policy.loader import MAX_POLICY_BYTES
from server.fleet.tokens import MAX_DAYS, MAX_USES


class PolicyUploadForm(forms.Form):
    """A YAML file, or the text typed or edited in the textarea (the file wins if both)."""

    file = forms.FileField(label=_("Policy file (YAML)"), required=False)
    text = forms.CharField(
        label=_("Or the policy text"),
        required=False,
        max_length=MAX_POLICY_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "ad-code"}),
    )
    unit = forms.IntegerField(label=_("Assign to unit (optional)"), required=False, min_value=1)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if not cleaned.get("file") and not (cleaned.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a file or write the policy text."))
        return cleaned


class AssignForm(forms.Form):
    unit = forms.IntegerField(label=_("Unit"), min_value=1)


class TokenForm(forms.Form):
    unit = forms.IntegerField(label=_("Unit"), min_value=1)
    uses = forms.IntegerField(label=_("Uses"), min_value=1, max_value=MAX_USES, initial=1)
    expires_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=MAX_DAYS, initial=7
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
