"""Rectification (整改): notices from violations, automatic re-check, closing; spot checks."""
