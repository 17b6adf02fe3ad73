"""The wire protocol between agent and server, in one place both sides import.

    errors.py      ProtocolError and the machine-readable rejection reasons
    canonical.py   canonical JSON bytes (what gets hashed and signed)
    envelope.py    the signed report envelope: encode (agent), decode + verify (server)
    payload.py     what a report carries: full state or a heartbeat naming the state's hash
    documents.py   server-signed documents the agent accepts: policies, commands
    auth.py        enrollment proof and signed GET requests (policy, commands)
    compliance.py  what a report's rule results mean: compliant, noncompliant, unchecked

docs/protocol.md describes the same thing for people; tests/test_protocol*.py pin it.
"""
