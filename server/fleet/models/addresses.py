"""Every address a host's latest state names, one row each: its own IP and MAC addresses,
and the gateways and DNS servers it uses.

The asset register compares addresses across the whole fleet (one IP on two hosts, a
gateway no enrolled host is). Kept as rows with an index on (kind, value), those questions
are GROUP BY queries the database answers for 100,000 hosts; kept only inside each host's
JSON lists, every page view would have to read and compare them all in Python. Enrollment
writes a host's own addresses, each full report rewrites the set (`server.fleet.state`).
"""

from __future__ import annotations

from django.db import models

from server.fleet.models.hosts import Host


class AddressKind(models.TextChoices):
    IP = "ip", "ip"
    MAC = "mac", "mac"
    GATEWAY = "gateway", "gateway"  # of any route
    DNS = "dns", "dns"


class HostAddress(models.Model):
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=8, choices=AddressKind.choices)
    value = models.CharField(max_length=64)  # as the agent wrote it; MACs lower-cased

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("host", "kind", "value"), name="host_address_once"),
        )
        indexes = (models.Index(fields=("kind", "value"), name="host_address_kind_value"),)

    def __str__(self) -> str:
        return f"{self.host_id} {self.kind} {self.value}"
