"""Compliance snapshots: a unit subtree's state, exported as one file signed by the server key.

    contents.py       the per-host records, read from the database in batches (Django)
    signed.py         what a host's signed reports say, projected the way snapshots show it
    document.py       snapshot.json and reports.jsonl: a line per host, a line per report
    derived.py        hosts.csv, findings.csv, software.csv, snapshot.html as a pure
                      function of snapshot.json (csv_export.py, printable.py, words.py,
                      fields.py), which create writes and verify regenerates
    bundle.py         the file format: a ZIP of fixed members with a signed manifest; writing
    archive.py        reading a file nothing vouches for yet, within hard ceilings
    render.py         create's derived members, rendered from snapshot.json's lines
    create.py         `custos-server snapshot create`: all of the above, streamed
    verify.py         `custos-server verify`: the offline check, without a database
    derived_check.py  verify's regeneration and comparison of the derived members
    workers.py        render.py and derived_check.py in a second process for large files
    problems.py       what verify found, kept up to a ceiling

Everything but contents.py and create.py imports nothing of Django, and neither does this
package, so an auditor's `custos-server verify` needs no settings, no database and no data
directory. Memory holds one batch of hosts (create) or one host (verify), whatever the size
of the subtree. docs/snapshots.md describes the format and what verifying proves.
"""
