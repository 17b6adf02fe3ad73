"""Forms of the alert settings page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from server.alerts.models import AlertSettings, Language, Mode


class SettingsForm(forms.Form):
    """The unit's alert settings. With `hidden_webhook` (the shown part of a URL another
    admin set), the URL field starts empty and an empty field keeps the stored URL; replacing
    it takes a new URL, removing it the `remove_webhook` box."""

    email_enabled = forms.BooleanField(label=_("E-mail the unit's administrators"), required=False)
    webhook_url = forms.URLField(
        label=_("Webhook URL"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Receives a JSON document (POST) with the alerts in Chinese and English."),
    )
    remove_webhook = forms.BooleanField(label=_("Remove the webhook"), required=False)
    digest_hour = forms.IntegerField(
        label=_("Send the digest at (hour, local time)"), min_value=0, max_value=23
    )
    mode = forms.ChoiceField(label=_("When"), choices=Mode.choices, widget=forms.RadioSelect)

    def __init__(self, *args: Any, hidden_webhook: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_webhook = hidden_webhook

    @classmethod
    def initial_from(cls, row: AlertSettings, hidden_webhook: str) -> dict[str, object]:
        return {
            "email_enabled": row.email_enabled,
            "webhook_url": "" if hidden_webhook else row.webhook_url,
            "mode": row.mode,
            "digest_hour": row.digest_hour,
        }

    def new_webhook_url(self, stored: str) -> str:
        """The URL to store, from the cleaned fields and the one stored now."""
        url: str = self.cleaned_data["webhook_url"]
        if self.cleaned_data["remove_webhook"]:
            return ""
        if self.hidden_webhook and not url:
            return stored
        return url

    def clean_webhook_url(self) -> str:
        url: str = self.cleaned_data["webhook_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("A webhook URL starts with http:// or https://."))
        return url


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("My alert e-mails are in"), choices=Language.choices)
