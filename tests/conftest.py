"""Project-wide test configuration: Qt runs offscreen unless a display is explicitly requested; an in-memory OS
keyring for the tests that read credentials from it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.errors
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.hil.harness.plugin"]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps secrets in a dict (keyring's own extension point, not project code)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


def _installed(backend: MemoryKeyring) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The OS keyring replaced by an empty in-memory one for the test."""
    yield from _installed(MemoryKeyring())


@pytest.fixture
def failing_keyring() -> Iterator[MemoryKeyring]:
    """The OS keyring replaced by one that is locked (every read fails)."""
    yield from _installed(LockedKeyring())
