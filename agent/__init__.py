"""Custos endpoint agent: collects facts about this PC and judges them against a YAML policy."""

__version__ = "0.1.0"
