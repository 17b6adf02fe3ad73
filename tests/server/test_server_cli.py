"""`custos-server` subcommands as real processes (`python -m server …`) on a temp data dir."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password

from tests.server.conftest import POLICIES
from tests.server.processes import run_server, server_database

pytestmark = pytest.mark.server

UNIT = "河北省/石家庄市/长安区/教育局"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One migrated server for the module; tests add what they need to it."""
    data = tmp_path_factory.mktemp("cli") / "data"
    completed = run_server(data, "migrate")
    assert completed.returncode == 0, completed.stderr
    assert run_server(data, "unit", "add", UNIT).returncode == 0
    yield data


def audit_actions(data: Path) -> list[str]:
    with server_database(data) as db:
        return [row[0] for row in db.execute("SELECT action FROM accounts_auditentry ORDER BY id")]


def test_unit_add_creates_the_chain_once(data_dir: Path) -> None:
    created = run_server(data_dir, "unit", "add", "河北省/保定市/莲池区")
    again = run_server(data_dir, "unit", "add", "/河北省/保定市/莲池区/")

    assert created.returncode == 0 and "created" in created.stdout
    assert again.returncode == 0 and "exists already" in again.stdout
    with server_database(data_dir) as db:
        paths = {row[0] for row in db.execute("SELECT path FROM accounts_unit")}
    assert {"河北省", "河北省/保定市", "河北省/保定市/莲池区"} <= paths
    assert audit_actions(data_dir).count("unit.add") == len(paths)


def test_a_malformed_unit_path_is_a_usage_error(data_dir: Path) -> None:
    completed = run_server(data_dir, "unit", "add", "河北省//长安区")
    assert completed.returncode == 2
    assert "none empty" in completed.stderr


def test_user_add_reads_the_password_from_stdin(data_dir: Path) -> None:
    completed = run_server(
        data_dir,
        "user",
        "add",
        "wang.li",
        "--role",
        "admin",
        "--unit",
        UNIT,
        stdin="correct horse battery staple\n",
    )

    assert completed.returncode == 0, completed.stderr
    with server_database(data_dir) as db:
        password, superuser = db.execute(
            "SELECT password, is_superuser FROM auth_user WHERE username = 'wang.li'"
        ).fetchone()
        role = db.execute("SELECT role FROM accounts_membership").fetchone()[0]
    assert password.startswith(("pbkdf2_", "argon2", "scrypt")) and "staple" not in password
    assert (superuser, role) == (0, "admin")
    assert "user.add" in audit_actions(data_dir)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["weak", "--role", "auditor", "--unit", UNIT], "123\n", "password refused"),
        (["nounit", "--role", "admin"], "correct horse battery staple\n", "needs --unit"),
        (["lost", "--role", "admin", "--unit", "河北省/不存在"], "x\n", "no unit"),
        (
            ["wang.li", "--role", "admin", "--unit", UNIT],
            "correct horse battery staple\n",
            "exists already",
        ),
    ],
)
def test_a_user_that_cannot_be_added_is_refused_with_exit_2(
    data_dir: Path, args: list[str], stdin: str, message: str
) -> None:
    run_server(
        data_dir,
        "user",
        "add",
        "wang.li",
        "--role",
        "admin",
        "--unit",
        UNIT,
        stdin="correct horse battery staple\n",
    )

    completed = run_server(data_dir, "user", "add", *args, stdin=stdin)

    assert completed.returncode == 2
    assert message in completed.stderr


def test_a_superuser_needs_no_unit(data_dir: Path) -> None:
    completed = run_server(
        data_dir, "user", "add", "chief", "--role", "superuser", stdin="a long enough passphrase\n"
    )
    assert completed.returncode == 0, completed.stderr


def stored_password_hash(data: Path, name: str) -> str:
    with server_database(data) as db:
        return str(
            db.execute("SELECT password FROM auth_user WHERE username = ?", (name,)).fetchone()[0]
        )


def test_user_password_reads_the_new_password_from_stdin_and_is_audited(data_dir: Path) -> None:
    run_server(
        data_dir,
        "user",
        "add",
        "li.na",
        "--role",
        "auditor",
        "--unit",
        UNIT,
        stdin="first passphrase 1\n",
    )
    entries_before = audit_actions(data_dir)

    completed = run_server(data_dir, "user", "password", "li.na", stdin="second passphrase 2\n")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""  # nothing to show: the person typed it
    stored = stored_password_hash(data_dir, "li.na")
    assert check_password("second passphrase 2", stored)
    assert not check_password("first passphrase 1", stored)
    assert audit_actions(data_dir) == [*entries_before, "user.password"]
    with server_database(data_dir) as db:
        details = db.execute(
            "SELECT target, details FROM accounts_auditentry ORDER BY id DESC"
        ).fetchone()
    assert details[0] == "li.na" and "passphrase" not in details[1]


def test_user_password_generate_prints_a_new_password_alone(data_dir: Path) -> None:
    run_server(
        data_dir,
        "user",
        "add",
        "zhao.lei",
        "--role",
        "admin",
        "--unit",
        UNIT,
        stdin="first passphrase 1\n",
    )

    completed = run_server(data_dir, "user", "password", "zhao.lei", "--generate")

    assert completed.returncode == 0, completed.stderr
    (password,) = completed.stdout.splitlines()
    assert len(password) >= 16
    assert check_password(password, stored_password_hash(data_dir, "zhao.lei"))
    assert "password of zhao.lei changed" in completed.stderr


@pytest.mark.parametrize(
    ("name", "stdin", "message"),
    [
        ("nobody", "a long enough passphrase\n", "no user 'nobody'"),
        ("wang.li", "short\n", "password refused"),
    ],
)
def test_a_password_that_cannot_be_set_is_refused_with_exit_2_and_changes_nothing(
    data_dir: Path, name: str, stdin: str, message: str
) -> None:
    run_server(
        data_dir,
        "user",
        "add",
        "wang.li",
        "--role",
        "admin",
        "--unit",
        UNIT,
        stdin="correct horse battery staple\n",
    )
    before = stored_password_hash(data_dir, "wang.li")
    entries_before = audit_actions(data_dir)

    completed = run_server(data_dir, "user", "password", name, stdin=stdin)

    assert completed.returncode == 2
    assert message in completed.stderr
    assert stored_password_hash(data_dir, "wang.li") == before
    assert audit_actions(data_dir) == entries_before


def test_token_create_prints_the_token_alone_and_stores_its_hash(data_dir: Path) -> None:
    completed = run_server(
        data_dir, "token", "create", "--unit", UNIT, "--uses", "3", "--expires-days", "2"
    )

    assert completed.returncode == 0, completed.stderr
    token = completed.stdout.strip()
    assert completed.stdout == token + "\n"
    # "cet_" first: a token must never look like a command-line option ("-…").
    assert re.fullmatch(r"cet_[A-Za-z0-9_-]{43}", token)
    with server_database(data_dir) as db:
        row = db.execute(
            "SELECT id, uses_left, token_sha256 FROM fleet_enrollmenttoken ORDER BY id DESC"
        ).fetchone()
        dump = "\n".join(db.iterdump())
    assert row[1:] == (3, hashlib.sha256(token.encode()).hexdigest())
    assert token not in dump
    assert f"token id {row[0]}" in completed.stderr


def test_a_token_has_one_use_for_seven_days_by_default(data_dir: Path) -> None:
    assert run_server(data_dir, "token", "create", "--unit", UNIT).returncode == 0
    with server_database(data_dir) as db:
        uses, created, expires = db.execute(
            "SELECT uses_left, created_at, expires_at FROM fleet_enrollmenttoken ORDER BY id DESC"
        ).fetchone()
    lifetime = dt.datetime.fromisoformat(expires) - dt.datetime.fromisoformat(created)
    assert uses == 1
    assert abs(lifetime - dt.timedelta(days=7)) < dt.timedelta(minutes=1)


def test_token_revoke_revokes_by_id(data_dir: Path) -> None:
    run_server(data_dir, "token", "create", "--unit", UNIT)
    with server_database(data_dir) as db:
        token_id = db.execute("SELECT max(id) FROM fleet_enrollmenttoken").fetchone()[0]

    completed = run_server(data_dir, "token", "revoke", str(token_id))
    unknown = run_server(data_dir, "token", "revoke", "999999")

    assert completed.returncode == 0, completed.stderr
    with server_database(data_dir) as db:
        revoked = db.execute(
            "SELECT revoked_at FROM fleet_enrollmenttoken WHERE id = ?", [token_id]
        ).fetchone()[0]
    assert revoked is not None
    assert unknown.returncode == 2 and "no enrollment token 999999" in unknown.stderr


def test_policy_add_validates_stores_and_assigns(data_dir: Path) -> None:
    policy = POLICIES / "intranet-office.yaml"

    completed = run_server(data_dir, "policy", "add", str(policy), "--unit", "河北省")

    assert completed.returncode == 0, completed.stderr
    with server_database(data_dir) as db:
        stored = db.execute(
            "SELECT policy_id, version, sha256, yaml_text FROM fleet_policy"
        ).fetchone()
        assigned = db.execute(
            "SELECT u.path FROM fleet_policyassignment a JOIN accounts_unit u ON u.id = a.unit_id"
        ).fetchall()
    assert stored[:3] == (
        "intranet-office",
        "2026.11",
        hashlib.sha256(policy.read_bytes()).hexdigest(),
    )
    assert stored[3].encode() == policy.read_bytes()
    assert ("河北省",) in assigned
    assert {"policy.add", "policy.assign"} <= set(audit_actions(data_dir))


def test_an_invalid_policy_is_refused_with_its_problems(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: 1\nschedule:\n  interval: soon\n", encoding="utf-8")

    completed = run_server(data_dir, "policy", "add", str(broken), "--unit", UNIT)

    assert completed.returncode == 2
    assert "does not validate" in completed.stderr and "broken.yaml:" in completed.stderr


def test_a_changed_policy_under_the_same_version_is_refused(data_dir: Path, tmp_path: Path) -> None:
    original = (POLICIES / "intranet-office.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "changed.yaml"
    changed.write_text(original.replace("interval: 1h", "interval: 2h"), encoding="utf-8")
    run_server(data_dir, "policy", "add", str(POLICIES / "intranet-office.yaml"), "--unit", UNIT)

    completed = run_server(data_dir, "policy", "add", str(changed), "--unit", UNIT)

    assert completed.returncode == 2 and "new version" in completed.stderr


def test_command_recheck_targets_a_host_or_a_subtree(data_dir: Path) -> None:
    subtree = run_server(data_dir, "command", "recheck", "--unit", "河北省")
    unknown = run_server(data_dir, "command", "recheck", "--host", "h_" + "0" * 32)
    neither = run_server(data_dir, "command", "recheck")

    assert subtree.returncode == 0 and "0 recheck command(s)" in subtree.stderr
    assert unknown.returncode == 2 and "no host" in unknown.stderr
    assert (
        neither.returncode == 2
        and "one of the arguments --host --unit is required" in neither.stderr
    )


def test_sweep_runs_once(data_dir: Path) -> None:
    completed = run_server(data_dir, "sweep")
    assert completed.returncode == 0 and completed.stdout.strip() == "0 host(s) marked silent"


def test_audit_verify_finds_a_row_changed_behind_the_servers_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run_server(data, "migrate")
    run_server(data, "unit", "add", "山西省/太原市")
    intact = run_server(data, "audit", "verify")
    with server_database(data) as db:
        db.execute("UPDATE accounts_auditentry SET target = '山西省/大同市' WHERE id = 2")

    broken = run_server(data, "audit", "verify")

    assert intact.returncode == 0 and "intact: 2 entries" in intact.stdout
    assert broken.returncode == 1 and "BROKEN at entry 2" in broken.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["token", "create"], "--unit"),
        (["token", "create", "--unit", UNIT, "--uses", "0"], "must be 1 or more"),
        (["run", "--port", "70000"], "a port is 1 to 65535"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(data_dir: Path, args: list[str], message: str) -> None:
    completed = run_server(data_dir, *args)
    assert completed.returncode == 2
    assert message in completed.stderr


def test_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    completed = run_server(tmp_path / "fresh", "run", "--port", "1")
    assert completed.returncode == 2
    assert "custos-server migrate" in completed.stderr


def test_policy_add_refuses_a_policy_over_the_size_agents_accept(
    data_dir: Path, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.yaml"
    original = (POLICIES / "intranet-office.yaml").read_text(encoding="utf-8")
    huge.write_text(original + "# padding\n" * (5 * 1024 * 1024 // 10), encoding="utf-8")
    assert huge.stat().st_size > 5 * 1024 * 1024

    completed = run_server(data_dir, "policy", "add", str(huge), "--unit", UNIT)

    assert completed.returncode == 2
    assert "huge.yaml: <document>: the file is" in completed.stderr
    assert "a policy is at most 512 KiB" in completed.stderr
    digest = hashlib.sha256(huge.read_bytes()).hexdigest()
    with server_database(data_dir) as db:
        stored = db.execute("SELECT count(*) FROM fleet_policy WHERE sha256 = ?", [digest])
        assert stored.fetchone()[0] == 0


def test_policy_add_refuses_a_regex_that_backtracks_catastrophically(
    data_dir: Path, tmp_path: Path
) -> None:
    redos = tmp_path / "redos.yaml"
    redos.write_text(
        'id: redos\nversion: "1"\ntitle: {zh: 正则, en: Regex}\n'
        "forbidden_software:\n  - id: no-redos\n    severity: high\n"
        "    title: {zh: 禁止, en: Forbidden}\n    match: {name: '^(\\S*?-?)*\\d$'}\n",
        encoding="utf-8",
    )

    completed = run_server(data_dir, "policy", "add", str(redos), "--unit", UNIT)

    assert completed.returncode == 2, completed.stdout
    assert "redos.yaml:8: forbidden_software[0].match.name:" in completed.stderr
    assert "can backtrack catastrophically" in completed.stderr
