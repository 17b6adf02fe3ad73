"""Per-unit daily figures for the overview's trend chart.

One row per unit and local day holds the unit's whole subtree (the unit and every unit
below it), so a trend over 90 days is 90 rows whatever the size of the fleet. The rollup
(`server.dashboard.rollup`) writes today's rows from the hosts' denormalised state and can
rebuild past days from report history; page views only read.
"""

from __future__ import annotations

from django.db import models

from server.accounts.models import Unit


class UnitDayStat(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="day_stats")
    day = models.DateField()  # in settings.TIME_ZONE
    hosts = models.PositiveIntegerField(default=0)  # enrolled, not revoked
    compliant = models.PositiveIntegerField(default=0)
    noncompliant = models.PositiveIntegerField(default=0)
    unchecked = models.PositiveIntegerField(default=0)  # no rule failed, some could not run
    # Not known for days rebuilt from report history (which does not record silence).
    silent = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("unit", "day"), name="unit_day_once"),)

    def __str__(self) -> str:
        return f"{self.unit.path} {self.day}: {self.compliant}/{self.hosts}"

    @property
    def unknown(self) -> int:
        return max(self.hosts - self.compliant - self.noncompliant - self.unchecked, 0)
