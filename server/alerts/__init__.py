"""Alerts to a unit's admins: new serious violations, silent hosts, overdue rectifications."""
