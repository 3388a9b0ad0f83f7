"""A private PostgreSQL server in a temporary folder, for the tests, the demo and the benchmark.

``initdb`` into a temp folder, ``pg_ctl start`` on 127.0.0.1 and a free port, stopped and removed on exit. As root
(CI runs as root and initdb refuses root) the binaries run as the ``postgres`` system user through ``runuser``
with the folder chowned to it. Host connections need a password (scram-sha-256), so the roles' passwords are
really checked; the superuser's is a random one held by the object, never logged.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from station.errors import StationError

SUPERUSER = "postgres"
_NOT_INSTALLED = "PostgreSQL is not installed: apt-get install postgresql"


class PostgresNotInstalled(StationError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


class ThrowawayServerError(StationError):
    """The throwaway server could not be created, started or stopped."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl: ``pg_config --bindir``, else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates.extend(Path(folder) for folder in versions)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresNotInstalled(_NOT_INSTALLED)


def postgres_installed() -> bool:
    try:
        find_bindir()
    except PostgresNotInstalled:
        return False
    return True


def _version_key(folder: str) -> tuple[int, ...]:
    name = Path(folder).parent.name
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ThrowawayServer:
    """One running server: where it listens, its superuser's password, and stop/start for outage tests."""

    folder: Path
    bindir: Path
    port: int
    password: str = field(repr=False)
    host: str = "127.0.0.1"
    running: bool = False

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def conninfo(self, dbname: str = "postgres", *, user: str = SUPERUSER, password: str | None = None) -> str:
        """A libpq connection string; the superuser's password unless another role's is given."""
        secret = self.password if user == SUPERUSER and password is None else password
        return make_conninfo(host=self.host, port=self.port, dbname=dbname, user=user,
                             **({"password": secret} if secret else {}))

    def url(self, dbname: str = "postgres", *, user: str = SUPERUSER) -> str:
        """A postgresql:// URL without any password (what a profile would hold)."""
        return f"postgresql://{user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns the superuser's conninfo for it."""
        with psycopg.connect(self.conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')  # test-chosen name
        return self.conninfo(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def start(self) -> None:
        """Start (or restart after ``stop``) on the same port, waiting until it accepts connections."""
        options = f"-p {self.port} -h {self.host} -k {self.folder}"
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options)
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash as far as clients can tell)."""
        if self.running:
            self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode)
            self.running = False

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        try:
            subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()
            raise ThrowawayServerError(f"{tool} failed: {detail[-1] if detail else exc}") from None
        except (OSError, subprocess.SubprocessError) as exc:
            raise ThrowawayServerError(f"{tool} failed: {exc}") from None


def _self_signed(data: Path) -> None:
    """A throwaway certificate for 127.0.0.1 (server.crt/server.key in the data folder), for TLS tests."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (data / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (data / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (data / "server.key").chmod(0o600)
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\nssl = on\n")
    if os.geteuid() == 0:
        for name_ in ("server.crt", "server.key"):
            shutil.chown(data / name_, SUPERUSER, SUPERUSER)


@contextmanager
def throwaway_postgres(*, tls: bool = False) -> Iterator[ThrowawayServer]:
    """A fresh server on 127.0.0.1 and a free port; stopped and its folder removed when the block ends.

    ``tls``: the server also offers TLS (a self-signed certificate), so ``sslmode=require`` can be exercised."""
    bindir = find_bindir()
    folder = Path(tempfile.mkdtemp(prefix="line-pg-"))
    server = ThrowawayServer(folder=folder, bindir=bindir, port=_free_port(), password=secrets.token_urlsafe(18))
    try:
        pwfile = folder / "pwfile"
        pwfile.write_text(server.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(folder, SUPERUSER, SUPERUSER)
            shutil.chown(pwfile, SUPERUSER, SUPERUSER)
        pwfile.chmod(0o600)
        server._run("initdb", "-D", str(server.data), "-U", SUPERUSER, f"--pwfile={pwfile}", "-E", "UTF8",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions")
        pwfile.unlink()
        if tls:
            _self_signed(server.data)
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
