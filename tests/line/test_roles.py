"""Security on the line database: a station's role writes only its own rows (row-level security, enforced by the
server), the dashboard's role only reads, passwords never come from the profile, TLS as the URL asks."""

from __future__ import annotations

import psycopg
import pytest

from station.config.line_db import LineDbUrl
from station.line.connection import PASSWORD_ENV, LineUnreachable, connect
from station.line.roles import make_dashboard_role, make_station_role
from station.line.throwaway_pg import throwaway_postgres
from tests.line.conftest import LineDb

_INSERT_UNIT = ("INSERT INTO line.units (station, local_id, lot, unit_key, state) "
                "VALUES (%s, %s, 'L', %s, 'PASS')")


@pytest.fixture
def two_stations(line_db_with_schema: LineDb) -> LineDb:
    with line_db_with_schema.connect() as admin:
        make_station_role(admin, "a", "pw-a")
        make_station_role(admin, "b", "pw-b")
        make_dashboard_role(admin, "pw-d")
    return line_db_with_schema


def test_a_station_role_cannot_insert_another_stations_rows(two_stations: LineDb) -> None:
    with psycopg.connect(two_stations.conninfo("line_station_a", "pw-a"), autocommit=True) as a:
        a.execute(_INSERT_UNIT, ("a", 1, "own"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            a.execute(_INSERT_UNIT, ("b", 1, "forged"))


def test_a_station_role_cannot_update_or_move_another_stations_rows(two_stations: LineDb) -> None:
    with psycopg.connect(two_stations.conninfo("line_station_b", "pw-b"), autocommit=True) as b:
        b.execute(_INSERT_UNIT, ("b", 1, "theirs"))
    with psycopg.connect(two_stations.conninfo("line_station_a", "pw-a"), autocommit=True) as a:
        assert a.execute("UPDATE line.units SET state = 'FAIL' WHERE station = 'b'").rowcount == 0
        assert a.execute("DELETE FROM line.units WHERE station = 'b'").rowcount == 0
        a.execute(_INSERT_UNIT, ("a", 1, "own"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            a.execute("UPDATE line.units SET station = 'b' WHERE station = 'a'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            a.execute("INSERT INTO line.stations (station) VALUES ('b')")
    with two_stations.connect() as admin:
        assert admin.execute("SELECT station, state FROM line.units ORDER BY station").fetchall() == [
            ("a", "PASS"), ("b", "PASS")]


def test_the_dashboard_role_reads_every_station_and_writes_nothing(two_stations: LineDb) -> None:
    for station, password in (("a", "pw-a"), ("b", "pw-b")):
        with psycopg.connect(two_stations.conninfo(f"line_station_{station}", password), autocommit=True) as conn:
            conn.execute(_INSERT_UNIT, (station, 1, station))
    with psycopg.connect(two_stations.conninfo("line_dashboard", "pw-d"), autocommit=True) as dashboard:
        assert dashboard.execute("SELECT COUNT(*) FROM line.units").fetchone() == (2,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            dashboard.execute(_INSERT_UNIT, ("a", 2, "x"))


def test_the_password_comes_from_the_environment_and_never_shows_in_errors(
        two_stations: LineDb, monkeypatch: pytest.MonkeyPatch) -> None:
    url = LineDbUrl.parse(two_stations.url("line_station_a"))
    monkeypatch.setenv(PASSWORD_ENV, "pw-a")
    with connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("line_station_a",)
    monkeypatch.setenv(PASSWORD_ENV, "wrong-secret")
    with pytest.raises(LineUnreachable, match="password authentication failed") as failed:
        connect(url)
    assert "wrong-secret" not in str(failed.value)


def test_sslmode_require_is_honoured(two_stations: LineDb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "pw-a")
    url = LineDbUrl.parse(two_stations.url("line_station_a") + "?sslmode=require")
    with pytest.raises(LineUnreachable, match="SSL"):
        connect(url)  # the throwaway server has no TLS: require refuses the plain connection


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://line_station_a:secret@h/line", "never put the line database's password"),
    ("mysql://line_station_a@h/line", "must start with postgresql://"),
    ("postgresql://h/line", "must name the station's role"),
    ("postgresql://a@h/line?sslmode=maybe", "sslmode='maybe' is not one of"),
])
def test_an_unusable_url_gets_one_sentence(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineDbUrl.parse(url)


def test_sslmode_require_gets_an_encrypted_connection_from_a_server_that_offers_tls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with throwaway_postgres(tls=True) as server:
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        url = LineDbUrl.parse(server.url() + "?sslmode=require")
        with connect(url) as conn:
            assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
        plain = LineDbUrl.parse(server.url() + "?sslmode=disable")
        with connect(plain) as conn:
            assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (False,)
