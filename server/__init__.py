"""Custos collection server (Django); built in the signed-reporting issue."""
