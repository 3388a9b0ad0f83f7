"""Asking the operator what only a person can check ("is the LED green?"): the ``Prompter`` the test stage asks,
and the headless ones (the terminal; fixed answers for ``--simulate`` and tests). The Qt one lives in station.ui.

A prompt answers None when it timed out or nobody could be asked: the test stage fails that test.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO


class Prompter(Protocol):
    """Asks the operator at ``slot`` (0-based) and waits at most ``timeout`` seconds; None = no answer in time."""

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float) -> bool | None:
        ...

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float) -> float | None:
        ...


class NoOperator:
    """The prompter of a station with no one to ask (no screen, no terminal): every prompt fails at once."""

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float) -> bool | None:
        return None

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float) -> float | None:
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

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float) -> bool | None:
        self.asked.append((slot, question))
        if self.answer is not None:
            given = self.answer(slot, question)
            return given if isinstance(given, bool) or given is None else bool(given)
        return self.yes

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float) -> float | None:
        self.asked.append((slot, question))
        if self.answer is not None:
            given = self.answer(slot, question)
            return None if given is None or isinstance(given, bool) else float(given)
        return self.number


class TerminalPrompter:
    """Asks on a terminal, one prompt at a time (slots wait their turn). One reader thread reads the input for
    every prompt, so a line typed after a time-out is dropped at the next question instead of answering it."""


    def __init__(self, *, read: TextIO | None = None, write: TextIO | None = None) -> None:
        self._in = read or sys.stdin
        self._out = write or sys.stdout
        self._one_at_a_time = threading.Lock()
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._ended = False
        self._timed_out = False

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float) -> bool | None:
        while True:
            text = self._ask(slot, f"{question} [y/n]", image, timeout)
            if text is None:
                return None
            if text.lower() in ("y", "yes"):
                return True
            if text.lower() in ("n", "no"):
                return False
            self._say("Answer y or n.")

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float) -> float | None:
        while True:
            text = self._ask(slot, question, image, timeout)
            if text is None:
                return None
            try:
                return float(text.replace(",", "."))
            except ValueError:
                self._say(f"{text!r} is not a number; type a number such as 3.3.")

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _read(self) -> None:
        for line in iter(self._in.readline, ""):
            self._lines.put(line.strip())
        self._lines.put(None)  # the input ended: no more answers

    def _ask(self, slot: int, question: str, image: Path | None, timeout: float) -> str | None:
        with self._one_at_a_time:
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="prompt-input", daemon=True)
                self._reader.start()
            while self._timed_out and not self._ended:  # a late answer to the last question answers no other
                try:
                    if self._lines.get_nowait() is None:
                        self._ended = True
                except queue.Empty:
                    break
            self._timed_out = False
            if self._ended:
                return None
            seen = f" (picture: {image})" if image else ""
            self._say(f"Slot {slot + 1}: {question}{seen} — answer within {timeout:.0f} s")
            try:
                answer = self._lines.get(timeout=timeout)
            except queue.Empty:
                self._say(f"Slot {slot + 1}: no answer within {timeout:.0f} s; the test fails.")
                self._timed_out = True
                return None
            if answer is None:
                self._ended = True
            return answer
