"""Forms of the alert settings page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from server.alerts.models import AlertSettings, Language, Mode


class SettingsForm(forms.Form):
    email_enabled = forms.BooleanField(label=_("E-mail the unit's administrators"), required=False)
    webhook_url = forms.URLField(
        label=_("Webhook URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Receives a JSON document (POST) with the alerts in Chinese and English."),
    )
    digest_hour = forms.IntegerField(
        label=_("Send the digest at (hour, local time)"), min_value=0, max_value=23
    )
    mode = forms.ChoiceField(label=_("When"), choices=Mode.choices, widget=forms.RadioSelect)

    @classmethod
    def initial_from(cls, row: AlertSettings) -> dict[str, object]:
        return {
            "email_enabled": row.email_enabled,
            "webhook_url": row.webhook_url,
            "mode": row.mode,
            "digest_hour": row.digest_hour,
        }

    def clean_webhook_url(self) -> str:
        url: str = self.cleaned_data["webhook_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("A webhook URL starts with http:// or https://."))
        return url


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("My alert e-mails are in"), choices=Language.choices)
