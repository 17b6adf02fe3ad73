"""Finding and creating units by their path, "province/city/county/unit"."""

from __future__ import annotations

from django.db import transaction

from server.accounts import audit
from server.accounts.models import Unit
from server.accounts.models.units import PATH_SEPARATOR
from server.errors import AdminError

MAX_DEPTH = 8
MAX_NAME = 100


def split_path(text: str) -> list[str]:
    """The names along a path; AdminError says what is wrong with a malformed one."""
    names = [name.strip() for name in text.strip().strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
    if not text.strip() or any(not name for name in names):
        raise AdminError(f"unit path {text!r}: write names separated by '/', none empty")
    if len(names) > MAX_DEPTH:
        raise AdminError(f"unit path {text!r}: at most {MAX_DEPTH} levels")
    for name in names:
        if len(name) > MAX_NAME or any(ord(char) < 32 or ord(char) == 127 for char in name):
            raise AdminError(
                f"unit name {name!r}: at most {MAX_NAME} characters, no control characters"
            )
    return names


def normalise_path(text: str) -> str:
    return PATH_SEPARATOR.join(split_path(text))


def find_unit(text: str) -> Unit:
    path = normalise_path(text)
    unit = Unit.objects.filter(path=path).first()
    if unit is None:
        raise AdminError(f"no unit {path!r}; create it with `custos-server unit add {path}`")
    return unit


def add_unit_path(text: str, actor: str) -> tuple[Unit, list[Unit]]:
    """The unit at `text` and the units that had to be created for it (none if it existed).

    Idempotent: the chain is created from the top down as far as it is missing, and each
    unit created is one audit entry.
    """
    names = split_path(text)
    created: list[Unit] = []
    with transaction.atomic():
        parent: Unit | None = None
        for depth in range(len(names)):
            path = PATH_SEPARATOR.join(names[: depth + 1])
            unit = Unit.objects.filter(path=path).first()
            if unit is None:
                unit = Unit.objects.create(name=names[depth], parent=parent, path=path)
                audit.record(actor, "unit.add", path, {"parent": parent.path if parent else None})
                created.append(unit)
            parent = unit
    if parent is None:  # split_path never returns an empty list
        raise AdminError(f"unit path {text!r} names no unit")
    return parent, created
