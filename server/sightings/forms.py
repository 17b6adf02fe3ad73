"""Forms of the network-devices pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from server.sightings.labels import FORMAT_LABELS, KNOWN_LABELS
from server.sightings.models import TEXT_LENGTH


class KnownForm(forms.Form):
    kind = forms.ChoiceField(label=_("What it is"), choices=list(KNOWN_LABELS.items()))
    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT_LENGTH)


class ImportForm(forms.Form):
    unit = forms.IntegerField(label=_("Unit"), min_value=1)
    import_format = forms.ChoiceField(label=_("File"), choices=list(FORMAT_LABELS.items()))
    source = forms.CharField(
        label=_("Source (DHCP server or switch)"), required=False, max_length=TEXT_LENGTH
    )
    file = forms.FileField(label=_("File to import"))
