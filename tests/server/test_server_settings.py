"""Settings from the environment, the database settings they produce, and the key files."""

from __future__ import annotations

import contextlib
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db.utils import ConnectionHandler

from server.lib import env
from server.lib.data_dir import default_data_dir
from server.lib.database import database_settings, postgres_database, sqlite_database
from server.lib.server_key import ServerKeyError, load_server_key, public_key_bytes
from tests.server.processes import run_server

pytestmark = pytest.mark.server


# --- typed readers -------------------------------------------------------------------------


def test_an_unset_or_empty_variable_gives_the_default() -> None:
    assert env.read_bool("CUSTOS_DEBUG", False, environ={}) is False
    assert env.read_int("N", 3, minimum=1, environ={"N": "  "}) == 3
    assert env.read_list("L", ["a"], environ={"L": ""}) == ["a"]


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("ON", True), ("0", False), (" no ", False)]
)
def test_booleans_are_read_in_the_usual_spellings(text: str, value: bool) -> None:
    assert env.read_bool("CUSTOS_DEBUG", not value, environ={"CUSTOS_DEBUG": text}) is value


def test_a_bad_boolean_names_the_variable_and_the_allowed_values() -> None:
    with pytest.raises(env.SettingError) as refused:
        env.read_bool("CUSTOS_DEBUG", False, environ={"CUSTOS_DEBUG": "maybe"})
    message = str(refused.value)
    assert message.startswith("CUSTOS_DEBUG='maybe'")
    assert "true" in message and "false" in message


@pytest.mark.parametrize("text", ["many", "2.5", "0", "100000000"])
def test_a_number_outside_its_bounds_is_refused(text: str) -> None:
    with pytest.raises(env.SettingError, match=r"CUSTOS_SILENT_AFTER_MISSED.*from 1 to 1000"):
        env.read_int(
            "CUSTOS_SILENT_AFTER_MISSED",
            3,
            minimum=1,
            maximum=1000,
            environ={"CUSTOS_SILENT_AFTER_MISSED": text},
        )


def test_lists_are_split_on_commas() -> None:
    hosts = env.read_list("H", [], environ={"H": "custos.example.cn, 10.0.0.5 ,,"})
    assert hosts == ["custos.example.cn", "10.0.0.5"]


def test_trusted_proxies_are_addresses_and_networks() -> None:
    read = env.read_networks(
        "CUSTOS_TRUSTED_PROXIES", environ={"CUSTOS_TRUSTED_PROXIES": "127.0.0.1, 10.8.0.0/16 ,::1"}
    )
    assert [str(network) for network in read] == ["127.0.0.1/32", "10.8.0.0/16", "::1/128"]
    assert env.read_networks("CUSTOS_TRUSTED_PROXIES", environ={}) == ()


@pytest.mark.parametrize("text", ["proxy.example", "10.0.0.1/8", "10.0.0.0/33", "::1/129"])
def test_a_trusted_proxy_that_is_not_an_address_or_network_is_refused(text: str) -> None:
    environ = {"CUSTOS_TRUSTED_PROXIES": text}
    with pytest.raises(env.SettingError, match=r"CUSTOS_TRUSTED_PROXIES=.*not an IP address"):
        env.read_networks("CUSTOS_TRUSTED_PROXIES", environ=environ)


def test_a_time_zone_must_exist() -> None:
    assert env.read_time_zone("TZ", "UTC", environ={"TZ": "Asia/Urumqi"}) == "Asia/Urumqi"
    with pytest.raises(env.SettingError, match="IANA"):
        env.read_time_zone("TZ", "UTC", environ={"TZ": "Mars/Olympus_Mons"})


def test_a_relative_path_is_refused() -> None:
    with pytest.raises(env.SettingError, match="absolute"):
        env.read_path("CUSTOS_DATA_DIR", Path("/x"), environ={"CUSTOS_DATA_DIR": "data"})


def test_a_public_url_is_an_http_address_without_its_trailing_slash() -> None:
    read = env.read_base_url
    assert read("U", environ={}) == ""
    assert read("U", environ={"U": " https://custos.unit.example/ "}) == (
        "https://custos.unit.example"
    )
    assert read("U", environ={"U": "http://10.1.2.3:8080/custos/"}) == "http://10.1.2.3:8080/custos"
    for bad, reason in [
        ("custos.unit.example", "http"),
        ("ftp://custos.unit.example", "http"),
        ("https://", "http"),
        ("https://custos.unit.example/?next=1", "no query"),
        ("https://admin:pw@custos.unit.example", "credentials"),
        ("https://custos.unit.example:99999", "bad port"),
    ]:
        with pytest.raises(env.SettingError, match=reason):
            read("CUSTOS_PUBLIC_URL", environ={"CUSTOS_PUBLIC_URL": bad})


def test_a_choice_must_be_one_of_the_choices() -> None:
    with pytest.raises(env.SettingError, match="DEBUG, INFO"):
        env.read_choice(
            "CUSTOS_LOG_LEVEL", "INFO", ("DEBUG", "INFO"), environ={"CUSTOS_LOG_LEVEL": "LOUD"}
        )


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n")
    assert (
        env.read_secret("CUSTOS_SECRET_KEY", {"CUSTOS_SECRET_KEY_FILE": str(secret)})
        == "s3cret-value"
    )
    assert env.read_secret("CUSTOS_SECRET_KEY", {"CUSTOS_SECRET_KEY": "direct"}) == "direct"
    assert env.read_secret("CUSTOS_SECRET_KEY", {}) is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"S": "a", "S_FILE": "/etc/hostname"}, "not both"),
        ({"S_FILE": "/nonexistent/secret"}, "cannot read"),
    ],
)
def test_an_unusable_secret_setting_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(env.SettingError, match=message):
        env.read_secret("S", environ)


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(env.SettingError, match=r"S_FILE.*empty"):
        env.read_secret("S", {"S_FILE": str(tmp_path / "empty")})


# --- database settings ---------------------------------------------------------------------


def test_a_postgresql_url_becomes_a_database_entry() -> None:
    entry = postgres_database(
        "postgresql://custos:p%40ss%3Aw@db.example.cn:5433/custos?sslmode=require", "URL"
    )
    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["NAME"], entry["USER"], entry["PASSWORD"]) == ("custos", "custos", "p@ss:w")
    assert (entry["HOST"], entry["PORT"]) == ("db.example.cn", "5433")
    assert entry["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "expected postgresql://"),
        ("postgresql://u:p@h:5432/", "names no database"),
        ("postgresql://u:p@h:99999/db", "not a valid URL"),
    ],
)
def test_an_unusable_database_url_is_refused_without_showing_the_password(
    url: str, message: str
) -> None:
    with pytest.raises(env.SettingError, match=message) as refused:
        postgres_database(url, "CUSTOS_DATABASE_URL")
    assert "CUSTOS_DATABASE_URL" in str(refused.value)
    assert ":p@" not in str(refused.value)


def test_without_a_url_the_database_is_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    entry = database_settings(None, tmp_path, "CUSTOS_DATABASE_URL")
    assert entry["NAME"] == tmp_path / "custos.sqlite3"
    assert entry["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.fixture
def unblocked(django_db_blocker: Any) -> Any:
    """Connections of our own to a file database, outside pytest-django's test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def sqlite_file(tmp_path: Path, unblocked: None) -> Any:
    handler = ConnectionHandler({"default": sqlite_database(tmp_path)})
    yield handler
    handler.close_all()


@contextlib.contextmanager
def own_connection(settings_dict: dict[str, Any]) -> Iterator[Any]:
    """A connection of its own to a file database, closed on leaving: one left to the garbage
    collector is a ResourceWarning on Python 3.13, an error in this suite."""
    handler = ConnectionHandler({"default": settings_dict})
    try:
        yield handler["default"]
    finally:
        handler.close_all()


def test_sqlite_connections_use_wal_normal_sync_foreign_keys_and_a_busy_timeout(
    sqlite_file: Any,
) -> None:
    with sqlite_file["default"].cursor() as cursor:
        pragmas = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 20000,
    }


def _writers(tmp_path: Path, mode: str) -> list[BaseException]:
    """Two transactions that read, then write, each on its own connection; their errors."""
    from django.db import transaction

    settings_dict = sqlite_database(tmp_path)
    settings_dict["OPTIONS"]["transaction_mode"] = mode
    with own_connection(settings_dict) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS counter (n INTEGER)")
        cursor.execute("DELETE FROM counter")
        cursor.execute("INSERT INTO counter VALUES (0)")
    first_inside, second_read = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    handler = ConnectionHandler({"default": settings_dict})  # one connection per thread

    def writer(first: bool) -> None:
        connection = handler["default"]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                n = cursor.execute("SELECT n FROM counter").fetchone()[0]
                if first:
                    first_inside.set()
                    second_read.wait(0.5)  # the other one reads meanwhile (DEFERRED)
                else:
                    second_read.set()
                cursor.execute("UPDATE counter SET n = %s", [n + 1])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # transaction.atomic finds its connection by alias: point it at this handler's.
    with mock.patch.object(transaction, "get_connection", lambda using=None: handler["default"]):
        threads = [threading.Thread(target=writer, args=(flag,)) for flag in (True, False)]
        threads[0].start()
        assert first_inside.wait(5)
        threads[1].start()
        for thread in threads:
            thread.join(30)
    return errors


def test_concurrent_sqlite_writers_queue_instead_of_failing(
    tmp_path: Path, unblocked: None
) -> None:
    """Both read, then write. With IMMEDIATE transactions the second waits at BEGIN for the
    first; with SQLite's default DEFERRED ones it would fail with "database is locked"."""
    assert _writers(tmp_path, "IMMEDIATE") == []
    with (
        own_connection(sqlite_database(tmp_path)) as connection,
        connection.cursor() as cursor,
    ):
        assert cursor.execute("SELECT n FROM counter").fetchone()[0] == 2
    deferred = _writers(tmp_path, "DEFERRED")
    assert [str(error) for error in deferred] == ["database is locked"]


# --- key files -----------------------------------------------------------------------------


def test_the_server_key_is_created_once_and_only_its_owner_may_read_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "server_key.pem"
    key = load_server_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in path.read_bytes()
    from server.lib import server_key

    server_key._loaded.clear()
    assert public_key_bytes(load_server_key(path)) == public_key_bytes(key)


def test_an_unusable_server_key_file_stops_the_server_instead_of_being_replaced(
    tmp_path: Path,
) -> None:
    path = tmp_path / "server_key.pem"
    path.write_text("not a key")
    with pytest.raises(ServerKeyError):
        load_server_key(path)
    assert path.read_text() == "not a key"


# --- the settings module in a real process -------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CUSTOS_DEBUG", "maybe", "CUSTOS_DEBUG='maybe': expected one of true"),
        ("CUSTOS_TIME_ZONE", "Beijing", "CUSTOS_TIME_ZONE='Beijing'"),
        ("CUSTOS_MAX_REPORT_BYTES", "12", "CUSTOS_MAX_REPORT_BYTES='12'"),
        ("CUSTOS_DATABASE_URL", "sqlite:///x", "CUSTOS_DATABASE_URL"),
    ],
)
def test_a_bad_setting_stops_the_cli_with_exit_2_and_names_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    completed = run_server(tmp_path, "sweep", **{variable: value})
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_an_unusable_data_directory_stops_the_cli_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    completed = run_server(tmp_path / "a-file" / "data", "sweep")
    assert completed.returncode == 2
    assert (
        "CUSTOS_DATA_DIR=" in completed.stderr and "cannot create the directory" in completed.stderr
    )


def test_the_default_data_directory_is_the_system_one_for_root_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert default_data_dir(0, home, {}) == Path("/var/lib/custos-server")
    assert default_data_dir(1000, home, {}) == home / ".local/share/custos-server"
    xdg = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert default_data_dir(1000, home, xdg) == tmp_path / "xdg/custos-server"
    assert (
        default_data_dir(1000, home, {"XDG_DATA_HOME": "relative"})
        == home / ".local/share/custos-server"
    )


def test_the_data_directory_gets_a_private_secret_key_on_first_use(tmp_path: Path) -> None:
    data = tmp_path / "data"
    completed = run_server(data, "migrate")
    assert completed.returncode == 0, completed.stderr

    secret = data / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) >= 50
    assert (data / "custos.sqlite3").is_file()
    before = secret.read_text()
    run_server(data, "sweep")
    assert secret.read_text() == before
