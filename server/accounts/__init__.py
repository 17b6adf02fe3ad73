"""Units (the province → city → county → unit tree), who may act on which, and the audit log."""
