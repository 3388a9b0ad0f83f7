"""The profile's ``[line]`` section: the line database a station feeds, and what a label seen elsewhere does.

```toml
[line]
database = "postgresql://line_station_a@db.factory.lan:5432/line?sslmode=require"
on_duplicate = "refuse"   # or "warn"
```
The URL names the station's own role and never a password: the password comes from the environment
(``PARTICLE_STATION_LINE_DB_PASSWORD`` or libpq's ``PGPASSWORD``) or the OS keyring (station.line.connection).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from station.config.toml_reader import TomlTable

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_QUERY_KEYS = {"sslmode", "sslrootcert", "connect_timeout", "application_name"}


class OnDuplicate(enum.Enum):
    """What a label (or device id) already PASS or in progress at another station does at scan time."""

    REFUSE = "refuse"
    WARN = "warn"


class LineUrlError(ValueError):
    """A line database URL that cannot be used; the message is one sentence."""


@dataclass(frozen=True)
class LineDbUrl:
    """A parsed ``postgresql://user@host:port/dbname?sslmode=...`` without any password; safe to show."""

    user: str
    host: str
    port: int
    dbname: str
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> LineDbUrl:
        try:
            parts = urlsplit(text.strip())
            port = parts.port or 5432
        except ValueError as exc:
            raise LineUrlError(f"the line database URL is not usable: {exc}") from None
        if parts.scheme not in ("postgresql", "postgres"):
            raise LineUrlError("the line database URL must start with postgresql://")
        if parts.password is not None:
            raise LineUrlError("never put the line database's password in the URL or the profile; set "
                               "PARTICLE_STATION_LINE_DB_PASSWORD or store it in the OS keyring")
        if not parts.username or not parts.hostname:
            raise LineUrlError("the line database URL must name the station's role and the host: "
                               "postgresql://line_station_NAME@HOST:5432/line")
        dbname = parts.path.lstrip("/") or "line"
        options = tuple(parse_qsl(parts.query, keep_blank_values=True))
        for key, value in options:
            if key not in _QUERY_KEYS:
                raise LineUrlError(f"the line database URL has an unknown option {key!r} "
                                   f"(known: {', '.join(sorted(_QUERY_KEYS))})")
            if key == "sslmode" and value not in SSL_MODES:
                raise LineUrlError(f"sslmode={value!r} is not one of {', '.join(SSL_MODES)}")
        return cls(parts.username, parts.hostname, port, dbname, options)

    @property
    def sslmode(self) -> str | None:
        return dict(self.options).get("sslmode")

    def __str__(self) -> str:
        query = "&".join(f"{key}={value}" for key, value in self.options)
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class LineSettings:
    """The ``[line]`` section once parsed."""

    database: LineDbUrl
    on_duplicate: OnDuplicate = OnDuplicate.REFUSE


def parse_line_section(table: TomlTable) -> LineSettings:
    """The ``[line]`` section; a password in it (or in the URL) is refused, never read."""
    if "password" in table.data:
        raise table.fail("password", "never put the line database's password in the profile; set "
                                     "PARTICLE_STATION_LINE_DB_PASSWORD or store it in the OS keyring")
    try:
        database = LineDbUrl.parse(table.text("database", required=True))
    except LineUrlError as exc:
        raise table.fail("database", str(exc)) from None
    return LineSettings(database=database,
                        on_duplicate=table.choice("on_duplicate", OnDuplicate, OnDuplicate.REFUSE))
