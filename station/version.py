"""The station software's version: what ``particle-station --version`` prints and every unit records."""

from __future__ import annotations

from functools import cache
from pathlib import Path

DISTRIBUTION = "particle-station"


@cache
def station_version() -> str:
    """The installed package's version, or the one in pyproject.toml when running from a checkout that is not
    installed; "unknown" when neither can be read."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    try:
        with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
