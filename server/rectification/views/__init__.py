"""Views of the rectification app: notices (notices.py) and spot checks (spot_checks.py)."""
