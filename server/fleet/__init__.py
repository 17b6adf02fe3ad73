"""The machines and what they report: hosts, enrollment tokens, reports, findings, policies
and commands, with the services that change them (enrollment, ingest, sweep)."""
