"""Asking the operator what only a person can check ("is the LED green?"): the ``Prompter`` the test stage asks,
and the headless ones (the terminal; fixed answers for ``--simulate`` and tests). The Qt one lives in station.ui.

A prompt answers None when it timed out or nobody could be asked: the test stage fails that test. It also answers
None, at once, when ``cancel`` is set while it waits (the operator stopped the unit): the question is withdrawn.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TextIO

from hardware.progress import CancelToken
from station.workflow.input_lines import CANCEL_POLL_S, InputLines


class Prompter(Protocol):
    """Asks the operator at ``slot`` (0-based) and waits at most ``timeout`` seconds, or until ``cancel`` is set;
    None = no answer in time (or withdrawn)."""

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> bool | None:
        ...

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> float | None:
        ...


class NoOperator:
    """The prompter of a station with no one to ask (no screen, no terminal): every prompt fails at once."""

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> bool | None:
        return None

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> float | None:
        return None


class FixedAnswers:
    """Answers every prompt the same way (the simulated line, tests): ``yes`` to Yes/No questions, ``number`` to
    number questions; None for either = never answers (a time-out, returned at once)."""

    def __init__(self, *, yes: bool | None = True, number: float | None = None,
                 answer: Callable[[int, str], bool | float | None] | None = None) -> None:
        self.yes = yes
        self.number = number
        self.answer = answer
        """Optional: decides per (slot, question), before ``yes``/``number``."""
        self.asked: list[tuple[int, str]] = []

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> bool | None:
        self.asked.append((slot, question))
        if self.answer is not None:
            given = self.answer(slot, question)
            return given if isinstance(given, bool) or given is None else bool(given)
        return self.yes

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> float | None:
        self.asked.append((slot, question))
        if self.answer is not None:
            given = self.answer(slot, question)
            return None if given is None or isinstance(given, bool) else float(given)
        return self.number


class TerminalPrompter:
    """Asks on a terminal, one prompt at a time (slots wait their turn). Answers come from ``lines``: the same
    reader the labels come from when labels are typed on stdin (station.workflow.input_lines), so the two never
    fight over the input; without it, from ``read`` alone (default stdin). A line typed after a time-out answers no
    later question."""

    def __init__(self, *, read: TextIO | None = None, write: TextIO | None = None,
                 lines: InputLines | None = None) -> None:
        self._lines = lines or InputLines(read or sys.stdin, labels=False)
        self._out = write or sys.stdout
        self._one_at_a_time = threading.Lock()

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> bool | None:
        with self._asking(cancel) as turn:
            if not turn:
                return None
            deadline = time.monotonic() + timeout
            complaint = ""
            while True:
                text = self._ask(slot, f"{question} [y/n]", image, timeout, deadline, complaint, cancel)
                if text is None:
                    return None
                if text.lower() in ("y", "yes"):
                    return True
                if text.lower() in ("n", "no"):
                    return False
                complaint = "Answer y or n."

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> float | None:
        with self._asking(cancel) as turn:
            if not turn:
                return None
            deadline = time.monotonic() + timeout
            complaint = ""
            while True:
                text = self._ask(slot, question, image, timeout, deadline, complaint, cancel)
                if text is None:
                    return None
                try:
                    return float(text.replace(",", "."))
                except ValueError:
                    complaint = f"{text!r} is not a number; type a number such as 3.3."

    @contextlib.contextmanager
    def _asking(self, cancel: CancelToken | None) -> Iterator[bool]:
        """This slot's turn to ask (True), or False when its unit was stopped while it waited for the turn: a
        question withdrawn before it was shown is never printed."""
        while not self._one_at_a_time.acquire(timeout=CANCEL_POLL_S):
            if cancel is not None and cancel.cancelled:
                yield False
                return
        try:
            yield not (cancel is not None and cancel.cancelled)
        finally:
            self._one_at_a_time.release()

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _ask(self, slot: int, question: str, image: Path | None, timeout: float, deadline: float,
             complaint: str = "", cancel: CancelToken | None = None) -> str | None:
        """Ask (after ``complaint`` about the last answer, if any) and wait for the answer. Both are printed only
        once the question waits for its line (InputLines.answer), so a quick answer is never taken for a label."""
        if self._lines.exhausted:
            return None
        seen = f" (picture: {image})" if image else ""

        def announce() -> None:
            if complaint:
                self._say(complaint)
            self._say(f"Slot {slot + 1}: {question}{seen} — answer within {timeout:.0f} s")

        answer = self._lines.answer(max(0.0, deadline - time.monotonic()), announce, cancel)
        if answer is None and cancel is not None and cancel.cancelled:
            self._say(f"Slot {slot + 1}: the unit was stopped; the question is withdrawn.")
        elif answer is None and not self._lines.exhausted:
            self._say(f"Slot {slot + 1}: no answer within {timeout:.0f} s; the test fails.")
        return answer
