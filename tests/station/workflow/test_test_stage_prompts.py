"""The headless prompters: the terminal one (answers typed on a stream) and fixed answers."""

from __future__ import annotations

import io
import os
import time
from concurrent.futures import ThreadPoolExecutor

from station.workflow.input_lines import InputLines
from station.workflow.test_prompts import FixedAnswers, NoOperator, TerminalPrompter


def test_the_terminal_asks_again_until_the_answer_is_yes_or_no() -> None:
    out = io.StringIO()
    prompter = TerminalPrompter(read=io.StringIO("maybe\nY\n"), write=out)
    assert prompter.ask_yes_no(1, "Is the LED green?", None, 5) is True
    assert "Slot 2: Is the LED green? [y/n]" in out.getvalue() and "Answer y or n." in out.getvalue()


def test_the_terminal_takes_a_number_with_a_decimal_comma() -> None:
    prompter = TerminalPrompter(read=io.StringIO("abc\n3,3\n"), write=io.StringIO())
    assert prompter.ask_number(0, "Supply current (mA)?", None, 5) == 3.3


def test_no_answer_on_the_terminal_is_none() -> None:
    read, write = os.pipe()
    stream = os.fdopen(read)
    out = io.StringIO()
    try:
        assert TerminalPrompter(read=stream, write=out).ask_yes_no(0, "Is it?", None, 0.05) is None
        assert "no answer" in out.getvalue()
    finally:
        os.write(write, b"late\n")  # the reader still waiting gets its line (and drops it), then all is closed
        os.close(write)
        stream.close()


def test_a_late_answer_to_a_timed_out_question_answers_no_other() -> None:
    read, write = os.pipe()
    stream = os.fdopen(read)
    lines = InputLines(stream, labels=False)
    prompter = TerminalPrompter(lines=lines, write=io.StringIO())
    try:
        assert prompter.ask_yes_no(0, "First?", None, 0.05) is None
        os.write(write, b"y\n")  # typed too late for the first question
        deadline = time.monotonic() + 5
        while lines.lines_read == 0 and time.monotonic() < deadline:  # wait until the reader has the line
            time.sleep(0.01)
        assert prompter.ask_yes_no(0, "Second?", None, 0.05) is None  # the late "y" is dropped, not taken
    finally:
        os.close(write)
    assert prompter.ask_yes_no(0, "Third?", None, 5) is None  # the input ended
    stream.close()


def test_a_closed_input_is_no_answer() -> None:
    assert TerminalPrompter(read=io.StringIO(""), write=io.StringIO()).ask_yes_no(0, "Is it?", None, 5) is None


def test_fixed_answers_and_no_operator() -> None:
    answers = FixedAnswers(yes=False, number=4.5)
    assert answers.ask_yes_no(0, "q", None, 1) is False and answers.ask_number(0, "n", None, 1) == 4.5
    assert answers.asked == [(0, "q"), (0, "n")]
    assert NoOperator().ask_yes_no(0, "q", None, 1) is None and NoOperator().ask_number(0, "q", None, 1) is None


def test_shared_input_lines_go_to_the_open_prompt_and_otherwise_to_the_labels() -> None:
    read, write = os.pipe()
    stream = os.fdopen(read)
    lines = InputLines(stream)
    labels = lines.labels()
    out = io.StringIO()
    prompter = TerminalPrompter(lines=lines, write=out)
    try:
        os.write(write, b"P046AAAA00000001 ABCDEFGHJKLMNPQ\n")
        assert next(labels).strip() == "P046AAAA00000001 ABCDEFGHJKLMNPQ"
        with ThreadPoolExecutor(1) as worker:
            answer = worker.submit(prompter.ask_yes_no, 0, "Is the LED green?", None, 30)
            deadline = time.monotonic() + 5
            while "Is the LED green?" not in out.getvalue() and time.monotonic() < deadline:
                time.sleep(0.01)
            os.write(write, b"n\n")  # typed while the prompt is open: its answer, not a label
            assert answer.result(timeout=10) is False
        os.write(write, b"P046AAAA00000002 ABCDEFGHJKLMNPQ\n")
        assert next(labels).strip() == "P046AAAA00000002 ABCDEFGHJKLMNPQ"
    finally:
        os.close(write)
    assert list(labels) == []  # the input ended
    assert prompter.ask_yes_no(0, "Again?", None, 5) is None
    stream.close()


def test_an_answer_typed_as_soon_as_the_question_shows_answers_it_and_is_no_label() -> None:
    # The operator answers the instant the question is printed: the prompt must already be waiting for that line.
    read, write = os.pipe()
    lines = InputLines(os.fdopen(read), labels=True)

    class Operator(io.StringIO):
        def write(self, text: str) -> int:
            if "[y/n]" in text:
                os.write(write, b"n\n")  # typed at once ...
                deadline = time.monotonic() + 5
                while lines.lines_read == 0 and time.monotonic() < deadline:  # ... and read before we go on
                    time.sleep(0.01)
            return super().write(text)

    prompter = TerminalPrompter(lines=lines, write=Operator())
    try:
        assert prompter.ask_yes_no(0, "Is the LED green?", None, 5) is False
    finally:
        os.close(write)
    assert list(lines.labels()) == []  # the answer was not taken for a label


def test_an_answer_typed_as_soon_as_the_question_is_asked_again_answers_it_too() -> None:
    # "maybe" is no answer: the operator types "y" the instant "Answer y or n." shows; that line answers the
    # question, it is not made a label.
    read, write = os.pipe()
    lines = InputLines(os.fdopen(read), labels=True)
    typed = iter([b"maybe\n", b"y\n"])

    class Operator(io.StringIO):
        def write(self, text: str) -> int:
            if ("[y/n]" in text and lines.lines_read == 0) or "Answer y or n." in text:
                before = lines.lines_read
                os.write(write, next(typed))
                deadline = time.monotonic() + 5
                while lines.lines_read == before and time.monotonic() < deadline:
                    time.sleep(0.01)
            return super().write(text)

    out = Operator()
    prompter = TerminalPrompter(lines=lines, write=out)
    try:
        assert prompter.ask_yes_no(0, "Is the LED green?", None, 5) is True
    finally:
        os.close(write)
    assert list(lines.labels()) == []
    assert out.getvalue().count("Answer y or n.") == 1


def test_an_answer_followed_at_once_by_the_end_of_the_input_still_answers() -> None:
    # The operator answers the instant the question shows and the input ends right after (the last line of a
    # piped run): the reader has delivered the answer and ended before the prompt looks again. The answer counts.
    read, write = os.pipe()
    lines = InputLines(os.fdopen(read), labels=True)
    lines_ended = iter(lines.labels())  # starts the reader; ends once the input has

    class Operator(io.StringIO):
        def write(self, text: str) -> int:
            if "[y/n]" in text:
                os.write(write, b"y\n")
                os.close(write)
                assert next(lines_ended, None) is None  # the reader has taken the answer and seen the end
            return super().write(text)

    prompter = TerminalPrompter(lines=lines, write=Operator())
    assert prompter.ask_yes_no(0, "Is the LED green?", None, 5) is True


def test_a_stopped_unit_withdraws_its_question_on_the_terminal() -> None:
    from hardware.progress import CancelToken

    read, write = os.pipe()
    lines = InputLines(os.fdopen(read), labels=True)
    out = io.StringIO()
    prompter = TerminalPrompter(lines=lines, write=out)
    cancel = CancelToken()
    with ThreadPoolExecutor(max_workers=1) as pool:
        asked = pool.submit(prompter.ask_yes_no, 0, "Is the LED green?", None, 600, cancel)
        deadline = time.monotonic() + 10
        while "[y/n]" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        cancel.cancel()
        assert asked.result(timeout=30) is None  # not 600 s
        os.write(write, b"y\nB40TLABEL\n")  # typed after the question was withdrawn: it answers nothing (the line
        # refuses a "y" scanned as a label, as after a time-out)
        os.close(write)
    assert "the unit was stopped; the question is withdrawn" in out.getvalue()
    assert "no answer within" not in out.getvalue()
    assert list(lines.labels()) == ["y\n", "B40TLABEL\n"]


def test_a_stopped_unit_whose_question_waits_its_turn_is_never_asked() -> None:
    from hardware.progress import CancelToken

    read, write = os.pipe()
    lines = InputLines(os.fdopen(read), labels=True)
    out = io.StringIO()
    prompter = TerminalPrompter(lines=lines, write=out)
    cancel = CancelToken()
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(prompter.ask_yes_no, 0, "Slot one?", None, 600)
        deadline = time.monotonic() + 10
        while "Slot one?" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        second = pool.submit(prompter.ask_yes_no, 1, "Slot two?", None, 600, cancel)
        cancel.cancel()  # slot 2's unit is stopped while slot 1's question is still open
        assert second.result(timeout=30) is None  # not after slot 1's 600 s
        os.write(write, b"y\n")
        assert first.result(timeout=30) is True
        os.close(write)
    assert "Slot two?" not in out.getvalue()  # withdrawn before it was ever shown
