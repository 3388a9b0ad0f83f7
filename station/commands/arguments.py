"""How the CLI reads its arguments: an unknown option is named first, with the closest valid one and the usage of
the (sub-)command it was given to; option values every command shares (``--cloud-url``) are checked once, here, as
argparse types, so a bad value is a usage error (exit 2)."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import NoReturn

CLOUD_URL_OPTION = "--cloud-url"


def cloud_url_argument(text: str) -> str:
    """argparse ``type`` of ``--cloud-url``: the URL when it is an http(s) URL with a host, else a usage error."""
    from station.errors import StationError
    from station.workflow.cloud_reach import checked_cloud_url

    try:
        return checked_cloud_url(text, CLOUD_URL_OPTION)
    except StationError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{CLOUD_URL_OPTION} ")) from None


def check_cloud_urls(parser: argparse.ArgumentParser) -> None:
    """Give every ``--cloud-url`` option under ``parser`` (its sub-commands included) the one check above, so no
    command can take the option and forget to check it."""
    for action in parser._actions:
        if CLOUD_URL_OPTION in action.option_strings and action.type is None:
            action.type = cloud_url_argument
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                check_cloud_urls(sub)


class StationArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose first complaint is an unknown option, said as "unknown option --profiel (did you
    mean --profile?)" with this (sub-)command's usage, before a missing required option the typo was meant to give.
    Sub-command parsers are of this class too (argparse makes them of their parent's class)."""

    _given: Sequence[str] = ()

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        self._given = list(sys.argv[1:] if args is None else args)
        if self._unknown_option() is not None:  # first: before a sub-command or a missing option is complained of
            self.error("unrecognized arguments")  # error() names the unknown option
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        unknown = self._unknown_option()
        if unknown is not None:
            known = self._option_strings()
            close = difflib.get_close_matches(unknown, known, n=1, cutoff=0.75)
            message = f"unknown option {unknown}" + (f" (did you mean {close[0]}?)" if close else "")
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")

    def _option_strings(self) -> list[str]:
        return [option for action in self._actions for option in action.option_strings]

    def _sub_commands(self) -> set[str]:
        return {name for action in self._actions if isinstance(action, argparse._SubParsersAction)
                for name in action.choices}

    def _unknown_option(self) -> str | None:
        """The first option given to this parser (before its sub-command, if any) that it does not know."""
        known = self._option_strings()
        commands = self._sub_commands()
        for token in self._given:
            if token == "--" or token in commands:
                return None
            if not token.startswith(tuple(self.prefix_chars)) or len(token) < 2 or _is_number(token):
                continue
            option = token.split("=", 1)[0]
            if option in known or (self.allow_abbrev and option.startswith("--")
                                   and any(k.startswith(option) for k in known)):
                continue
            if not option.startswith("--") and option[:2] in known:  # -vv, -ofile: short options run together
                continue
            return option
        return None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True

