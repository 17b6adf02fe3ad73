"""The dashboard unit admins and auditors read: overview, hosts, violations, asset register."""
