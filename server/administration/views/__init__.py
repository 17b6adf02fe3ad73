"""Views of the administration app: policies, enrollment tokens, the audit log.

The alert settings page (`administration:alerts`) lives in the alerts app's views."""
