"""The admin pages: policies, enrollment tokens, the audit log."""
