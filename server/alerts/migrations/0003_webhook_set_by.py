"""Who entered the webhook URL, so that only they read it in full (issue 9, item 12)."""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def _last_saver_set_it(apps: Any, schema_editor: Any) -> None:
    """Before this, only the last one to save was known: the best guess at who set the URL."""
    AlertSettings = apps.get_model("alerts", "AlertSettings")
    AlertSettings.objects.exclude(webhook_url="").update(webhook_set_by=F("updated_by"))


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_delivery_claim"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="alertsettings",
            name="webhook_set_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(_last_saver_set_it, migrations.RunPython.noop),
    ]
