"""The audit log: append-only in the application, tamper-evident outside it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from server.accounts import audit
from server.accounts.models import AuditEntry
from server.accounts.models.audit_entry import GENESIS_HASH, entry_hash
from server.errors import AppendOnlyError

pytestmark = pytest.mark.server


@pytest.fixture
def three_entries(db: None) -> list[AuditEntry]:
    return [
        audit.record("cli:root", "unit.add", "北京市", {"parent": None}),
        audit.record("user:li", "token.create", "token:1", {"uses": 3, "unit": "北京市"}),
        audit.record("server", "host.clone_suspected", "h_" + "a" * 32, {"reason": "seq 7"}),
    ]


def test_entries_are_chained_from_the_genesis_hash(three_entries: list[AuditEntry]) -> None:
    first, second, third = three_entries
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert audit.verify_chain() is None


def test_an_empty_log_verifies(db: None) -> None:
    assert audit.verify_chain() is None


def test_a_stored_entry_still_hashes_to_its_hash_after_a_round_trip(
    three_entries: list[AuditEntry],
) -> None:
    for entry in AuditEntry.objects.all():
        assert entry.computed_hash() == entry.hash


def _update(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "cli:mallory"),
        ("action", "unit.remove"),
        ("target", "上海市"),
        ("details", '{"uses": 300, "unit": "北京市"}'),
    ],
)
def test_an_entry_changed_in_the_database_breaks_the_chain_there(
    three_entries: list[AuditEntry], column: str, value: str
) -> None:
    second = three_entries[1]
    table = AuditEntry._meta.db_table
    _update(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, second.pk])  # noqa: S608

    assert audit.verify_chain() == second.pk


def test_an_entry_rewritten_with_a_matching_hash_breaks_the_next_link(
    three_entries: list[AuditEntry],
) -> None:
    second, third = three_entries[1], three_entries[2]
    forged = entry_hash(
        second.prev_hash, second.at, second.actor, second.action, "token:99", second.details
    )
    table = AuditEntry._meta.db_table
    _update(
        f"UPDATE {table} SET target = %s, hash = %s WHERE id = %s",  # noqa: S608
        ["token:99", forged, second.pk],
    )

    assert AuditEntry.objects.get(pk=second.pk).computed_hash() == forged
    assert audit.verify_chain() == third.pk


def test_an_entry_deleted_from_the_middle_breaks_the_chain(
    three_entries: list[AuditEntry],
) -> None:
    table = AuditEntry._meta.db_table
    _update(f"DELETE FROM {table} WHERE id = %s", [three_entries[1].pk])  # noqa: S608

    assert audit.verify_chain() == three_entries[2].pk


def test_the_application_cannot_change_or_delete_entries(three_entries: list[AuditEntry]) -> None:
    entry = three_entries[0]
    entry.actor = "cli:mallory"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([AuditEntry(actor="x")])
    assert audit.verify_chain() is None
