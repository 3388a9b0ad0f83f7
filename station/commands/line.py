"""``particle-station line status|init|serve``: the line database seen from a station, set up, and shown.

``status`` reads the station's journal (what waits, how old) and, when it answers, the line database (every
station's backlog and lag). ``init`` is run once by an admin: schema, one role per station, the dashboard's
read-only role. ``serve`` starts the line dashboard (station.line.dashboard.server). Passwords come from the
environment (PARTICLE_STATION_LINE_DB_PASSWORD, PGPASSWORD) or the OS keyring, never from an argument or profile.
Handlers import psycopg and the line package when they run: building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Any

from station.errors import StationError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "line", help="the line database: replication status, one-time set-up, the live dashboard",
        description="Stations replicate their journals to one PostgreSQL line database (store and forward). "
        "'status' shows what waits; 'init' creates the schema and the roles; 'serve' starts the dashboard.",
    )
    actions = parser.add_subparsers(dest="line_action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="this station's replication backlog and lag, and every station's",
                                description="What waits in the station's journal for the line database, and, "
                                "when it answers, each station's backlog, lag and last contact.")
    status.add_argument("--profile", type=Path, required=True, metavar="P",
                        help="the station profile: its log folder has the journal, its [line] the database")
    status.add_argument("--json", action="store_true", help="print JSON on stdout")
    status.set_defaults(handler=run_line_status)

    init = actions.add_parser("init", help="create the schema, a role per station and the dashboard's role",
                              description="Run once, as the database's admin (the URL's role; its password from "
                              "PARTICLE_STATION_LINE_DB_PASSWORD, PGPASSWORD or the keyring). Each new role gets "
                              "a random password, printed once: store it in that station's keyring.")
    init.add_argument("--db", required=True, metavar="URL", help="postgresql://ADMIN@HOST:5432/line (no password)")
    init.add_argument("--station", action="append", default=[], metavar="NAME",
                      help="a station's name as in its profile's [station] name (repeat for each station)")
    init.add_argument("--no-dashboard", action="store_true", help="do not create the line_dashboard role")
    init.add_argument("--keep-passwords", action="store_true",
                      help="leave the passwords of roles that exist already as they are")
    init.set_defaults(handler=run_line_init)

    serve = actions.add_parser("serve", help="serve the live line dashboard (read-only)",
                               description="A web page that updates live: stations and slots, yield, failures, "
                               "cycle times, replication lag. Bound to 127.0.0.1 unless --host says otherwise.")
    serve.add_argument("--db", required=True, metavar="URL",
                       help="postgresql://line_dashboard@HOST:5432/line (no password)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="the port (default 8080)")
    serve.set_defaults(handler=run_line_serve)


def _url(text: str) -> Any:
    from station.config.line_db import LineDbUrl, LineUrlError

    try:
        return LineDbUrl.parse(text)
    except LineUrlError as exc:
        raise StationError(str(exc)) from None


def run_line_status(args: argparse.Namespace) -> int:
    from station.config.profile_loader import load_profile
    from station.line.connection import connect
    from station.line.status import line_status, no_line_status
    from station.records.database import JournalDatabase
    from station.records.journal import JOURNAL_NAME

    profile = load_profile(args.profile)
    settings = profile.line
    if settings is None:  # no backlog to show: a station that feeds no line keeps no change log
        status = no_line_status(profile.station_name, str(args.profile))
    else:
        path = Path(profile.log_folder) / JOURNAL_NAME
        if not path.is_file():  # opening a missing journal would create an empty one
            raise StationError(f"journal {path} does not exist; check station.log_folder in {args.profile}")
        db = JournalDatabase(path)
        try:
            status = line_status(db, profile.station_name, lambda: connect(settings.database))
        finally:
            db.close()
    if args.json:
        json.dump(status.as_json(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print("\n".join(status.lines()))
    return 0


def run_line_init(args: argparse.Namespace) -> int:
    from station.line.connection import connect
    from station.line.roles import make_dashboard_role, make_station_role, station_role
    from station.line.schema import ensure_schema

    url = _url(args.db)
    names = [name.strip() for name in args.station if name.strip()]
    with connect(url) as admin:
        version = ensure_schema(admin)
        print(f"line database {url}: schema version {version}")
        made = [(name, station_role(name)) for name in names]
        for name, role in made:
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
            password = None if exists and args.keep_passwords else secrets.token_urlsafe(18)
            make_station_role(admin, name, password)
            _say_role(role, f"station {name}", password, url.host)
        if not args.no_dashboard:
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'line_dashboard'").fetchone() is not None
            password = None if exists and args.keep_passwords else secrets.token_urlsafe(18)
            make_dashboard_role(admin, password)
            _say_role("line_dashboard", "the dashboard (read-only)", password, url.host)
    return 0


def _say_role(role: str, what: str, password: str | None, host: str) -> None:
    if password is None:
        print(f"{role}: {what}; password unchanged")
        return
    # Shown once on the admin's terminal, never logged or stored: the station's keyring is where it belongs.
    print(f"{role}: {what}; password (shown once): {password}\n"
          f"  on that machine: keyring set particle-station-line-db {role}@{host}")


def run_line_serve(args: argparse.Namespace) -> int:
    url = _url(args.db)
    if not 0 < args.port < 65536:
        raise StationError(f"--port {args.port} is not a TCP port (1-65535)")
    from station.line.dashboard.server import serve

    return serve(str(url), host=args.host, port=args.port)
