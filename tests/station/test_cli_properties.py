"""Property test of the whole command line (issue 16, item 8): generated arguments for every command (built from the
real parser's sub-commands and options, plus junk), generated profiles (a valid one with keys replaced by random TOML
values) and generated labels end in a documented exit code, one message when refused, and never a traceback.

The CLI runs in this process (``station.cli.main``), so a traceback is an exception escaping ``main`` or a log
record carrying one. Commands that would open a window (``demo``, ``run`` without ``--headless``) or change the
system (``hil udev --install``) are left out; a PIN is always read with ``--stdin``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.errors import IdentifierError
from hardware.identifiers import LabelScan
from station.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "fixtures" / "firmware" / "boron-user.bin"
FIRMWARE_SHA = "bddd9ae080c579d56da1fb7f7a7220ed68a0607b117a9f3fcb94bafdd686a925"
EXIT_CODES = {0, 1, 2, 130}
"""0 done, 1 refused or failed (one line on stderr says why), 2 wrong usage, 130 interrupted."""
LEFT_OUT = {("demo",), ("hil", "udev")}
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SKELETON: dict[str, dict[str, Any]] = {
    "station": {"name": "Line 1", "log_folder": "records", "lot_naming": "{product}-{date}-{seq:03d}"},
    "product": {"id": 12345, "platform": "boron"},
    "firmware": {"file": str(FIRMWARE), "sha256": FIRMWARE_SHA},
    "steps": {"claim": "product-owner", "rename": "unit-{serial}", "groups": ["line-a"]},
    "cloud": {"base_url": "http://127.0.0.1:9", "credentials": "env:PARTICLE_PROPERTY_TEST_UNSET"},
    "slots": {"count": 1},
}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value).replace("nan", "nan").replace("inf", "inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_text(data: dict[str, dict[str, Any]]) -> str:
    return "".join(f"[{section}]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in table.items())
                   for section, table in data.items())


scalars = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False),
                    st.booleans(), st.text(max_size=30))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                      max_leaves=6)


@st.composite
def profiles(draw: st.DrawFn) -> str:
    data = {section: dict(table) for section, table in SKELETON.items()}
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(sorted(data)))
        key = draw(st.one_of(st.sampled_from(sorted(data[section]) or ["x"]), st.text(min_size=1, max_size=8)))
        if draw(st.booleans()) and key in data[section]:
            del data[section][key]
        else:
            data[section][key] = draw(values)
    return toml_text(data)


def commands() -> list[tuple[tuple[str, ...], list[argparse.Action]]]:
    """Every command of the real parser with its options (the leaves of the sub-command tree)."""
    found: list[tuple[tuple[str, ...], list[argparse.Action]]] = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        actions = [a for a in parser._actions
                   if not isinstance(a, argparse._SubParsersAction | argparse._HelpAction)]
        if not subs and path not in LEFT_OUT:
            found.append((path, actions))
        for sub in subs:
            for name, child in sub.choices.items():
                walk(child, (*path, name))

    walk(build_parser(), ())
    return found


COMMANDS = commands()


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-properties")
    (root / "a-file").write_text("not a folder")
    (root / "folder").mkdir()
    data = {s: dict(t) for s, t in SKELETON.items()}
    data["station"]["log_folder"] = str(root / "records")
    (root / "good.toml").write_text(toml_text(data))
    return root


def paths(place: Path) -> st.SearchStrategy[str]:
    return st.sampled_from([
        str(place / "good.toml"), str(place / "a-file"), str(place / "a-file" / "x"), str(place / "folder"),
        str(place / "missing.toml"), str(place / "out.xlsx"), "/proc/x.xlsx", str(FIRMWARE),
        str(ROOT / "fixtures" / "labels" / "blank_tray.png"), str(place / "records" / "journal.sqlite3"), "-",
    ])


argument_text = st.text(st.characters(blacklist_characters="\x00"), max_size=12)
"""What a shell can pass as one argument (exec cannot pass a NUL)."""


@st.composite
def argvs(draw: st.DrawFn, place: Path) -> list[str]:
    path, actions = draw(st.sampled_from(COMMANDS))
    argv = list(path)
    for action in actions:
        if action.option_strings and action.option_strings[0] in ("--version", "--demo"):
            continue
        if not draw(st.booleans()) and not action.required and action.option_strings:
            continue
        flag = draw(st.sampled_from(action.option_strings)) if action.option_strings else None
        if action.nargs == 0:
            argv.append(str(flag))
            continue
        if action.choices:
            value = draw(st.one_of(st.sampled_from(sorted(map(str, action.choices))), argument_text))
        else:
            value = draw(st.one_of(paths(place), argument_text,
                                   st.integers(-5, 5).map(str), st.just("99999999999999999999"),
                                   st.sampled_from(["boron", "p2,boron", "2026-13-01", "12345-20260101-001"])))
        argv.extend([flag, value] if flag else [value])
    argv.extend(draw(st.lists(st.sampled_from(["--nope", "-x", "", "--json", "extra"]), max_size=2)))
    if path == ("run",):
        argv = [a for a in argv if a not in ("--auto-scan",)] + ["--headless"]
        if "--simulate" in argv:
            argv += ["--device-timing", "zero"]
    if path == ("profile", "hash-pin"):
        argv.append("--stdin")
    return argv


@contextlib.contextmanager
def tracebacks_logged() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(record) if record.exc_info else None  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        yield records
    finally:
        logging.getLogger().removeHandler(handler)


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with tracebacks_logged() as logged, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help (0) and wrong usage (2)
            code = exc.code if isinstance(exc.code, int) else 1
    assert not logged, f"{argv}: traceback logged: {logged[0].getMessage()}"
    for text in (out.getvalue(), err.getvalue()):
        assert "Traceback" not in text, f"{argv}: {text}"
    assert code in EXIT_CODES, f"{argv}: exit {code}"
    if code != 0:
        assert err.getvalue().strip(), f"{argv}: exit {code} without a message"
    else:
        assert (out.getvalue() + err.getvalue()).strip(), f"{argv}: exit 0 without output"
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_generated_arguments_for_every_command(place: Path) -> None:
    @PROPERTY
    @given(st.data())
    def check(data: st.DataObject) -> None:
        run_cli(data.draw(argvs(place)), stdin=data.draw(st.text(max_size=20)))

    check()


@PROPERTY
@given(text=profiles())
def test_generated_profiles_are_checked_in_one_sentence(place: Path, text: str) -> None:
    path = place / "generated.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(["profile", "check", str(path)])
    if code:
        assert len(err.strip().splitlines()) == 1, err


labels = st.one_of(st.text(max_size=60), st.text(alphabet="P0123456789ABCDEFGHJKLMNPQRSTUVWXYZ:;|-\t ", max_size=60))


@settings(max_examples=300, deadline=None)
@given(text=labels)
def test_generated_labels_parse_or_are_refused(text: str) -> None:
    try:
        LabelScan.parse(text)
    except IdentifierError as exc:
        assert str(exc).strip()


@pytest.mark.slow
@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scans=st.lists(labels, max_size=4))
def test_generated_labels_on_a_headless_line(place: Path, scans: list[str]) -> None:
    stdin = "".join(scan.replace("\n", " ").replace("\r", " ") + "\n" for scan in scans)
    run_cli(["run", "--profile", str(place / "good.toml"), "--headless", "--simulate", "1",
             "--device-timing", "zero"], stdin=stdin)
