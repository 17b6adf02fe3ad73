"""A notice records when the failure it is about was first seen (its 发现于).

Notices issued before this field existed get the time their host last started failing the
rule before the notice was issued, from the finding history (FindingChange); none is left
null when that history has no such change.
"""

from typing import Any

from django.db import migrations, models


def fill_found_at(apps: Any, schema_editor: Any) -> None:
    Rectification = apps.get_model("rectification", "Rectification")
    FindingChange = apps.get_model("fleet", "FindingChange")
    for notice in Rectification.objects.filter(found_at__isnull=True).iterator(chunk_size=500):
        change = (
            FindingChange.objects.filter(
                host_id=notice.host_id,
                rule=notice.rule,
                new_status="fail",
                at__lte=notice.issued_at,
            )
            .order_by("-at", "-id")
            .first()
        )
        if change is not None:
            notice.found_at = change.at
            notice.save(update_fields=["found_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0002_dashboard_state"),
        ("rectification", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="rectification",
            name="found_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_found_at, migrations.RunPython.noop),
    ]
