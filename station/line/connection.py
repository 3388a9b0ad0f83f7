"""Connecting to the line database: the password from the environment or the OS keyring, TLS as the URL says.

The password never comes from the profile or a URL, and never appears in a log or an error: libpq's own messages
do not carry it, and this module's sentences name only the password-less URL.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from station.config.line_db import LineDbUrl
from station.line.schema import LineDatabaseError

PASSWORD_ENV = "PARTICLE_STATION_LINE_DB_PASSWORD"
KEYRING_SERVICE = "particle-station-line-db"
"""Keyring entries: service ``particle-station-line-db``, user name ``<role>@<host>`` (or just ``<role>``)."""

CONNECT_TIMEOUT_S = 3
_NETWORK_OPTIONS = {"tcp_user_timeout": 3000, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                    "keepalives_count": 3}
"""libpq options that turn a cut network into an error within seconds rather than a hang (the URL may override)."""


class LineUnreachable(LineDatabaseError):
    """The line database does not answer or refuses the connection (the station goes on with its journal)."""


def find_password(url: LineDbUrl) -> str | None:
    """The role's password: PARTICLE_STATION_LINE_DB_PASSWORD, else PGPASSWORD, else the OS keyring, else None
    (libpq may still find one in ~/.pgpass)."""
    for variable in (PASSWORD_ENV, "PGPASSWORD"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        import keyring
        import keyring.errors

        for user in (f"{url.user}@{url.host}", url.user):
            secret = keyring.get_password(KEYRING_SERVICE, user)
            if secret:
                return secret
    except (ImportError, keyring.errors.KeyringError, RuntimeError):
        return None
    return None


def conninfo_for(url: LineDbUrl, *, password: str | None = None) -> str:
    """libpq connection parameters for the URL (its sslmode and other options honoured)."""
    secret = password if password is not None else find_password(url)
    params: dict[str, Any] = {"host": url.host, "port": url.port, "dbname": url.dbname, "user": url.user,
                              "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "particle-station",
                              **_NETWORK_OPTIONS}
    params.update(dict(url.options))
    if secret:
        params["password"] = secret
    return make_conninfo(**params)


def connect(url: LineDbUrl | str, *, password: str | None = None, autocommit: bool = True
            ) -> psycopg.Connection[tuple[Any, ...]]:
    """An open connection; LineUnreachable (one sentence, no secret) when the server cannot be reached or refuses."""
    parsed = url if isinstance(url, LineDbUrl) else LineDbUrl.parse(url)
    try:
        return psycopg.connect(conninfo_for(parsed, password=password), autocommit=autocommit)
    except psycopg.Error as exc:
        raise LineUnreachable(f"the line database {parsed} cannot be reached: {describe(exc)}") from None


def port_open(url: LineDbUrl | str, *, timeout: float = 0.25) -> bool:
    """Whether the server's port accepts a TCP connection (its Unix socket for a host that is a folder): a probe
    cheap enough to repeat every fraction of a second while the line database is down, so the backlog starts
    draining the moment the server is back rather than at the end of a back-off."""
    parsed = url if isinstance(url, LineDbUrl) else LineDbUrl.parse(url)
    try:
        if parsed.host.startswith("/"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
                unix.settimeout(timeout)
                unix.connect(f"{parsed.host}/.s.PGSQL.{parsed.port}")
        else:
            socket.create_connection((parsed.host, parsed.port), timeout=timeout).close()
    except OSError:
        return False
    return True


def describe(exc: BaseException) -> str:
    """libpq's reason in one line (its messages carry host and role, never the password)."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    first = first.removeprefix("connection failed:").strip()
    return first.split(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
