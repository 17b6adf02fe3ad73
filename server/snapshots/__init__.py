"""Compliance snapshots: a unit subtree's state, exported as one file signed by the server key.

    contents.py     the per-host records, read from the database for a unit subtree (Django)
    signed.py       what a host's signed reports say, projected the way snapshots show it
    bundle.py       the file format: a ZIP with a signed manifest; writing and reading
    csv_export.py   hosts.csv, findings.csv, software.csv (UTF-8 with BOM, injection-safe)
    printable.py    snapshot.html, the printable A4 page (Django's template engine)
    create.py       `custos-server snapshot create`: all of the above, written atomically
    verify.py       `custos-server verify`: the offline check, without a database

`bundle`, `signed` and `verify` import nothing of Django, and neither does this package, so
an auditor's `custos-server verify` needs no settings, no database and no data directory.
docs/snapshots.md describes the format and what verifying proves.
"""
