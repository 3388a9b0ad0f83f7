"""The tests' operator prompts on screen: big Yes/No buttons that answer from the keyboard (Y/N, Enter/Escape) and
the mouse, a number prompt, a picture, and a time-out — asked from a worker thread as the line does."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from station.ui.test_prompt import PromptDialog, QtPrompter

Answer = bool | float | None


@pytest.fixture
def prompter(qtbot: QtBot) -> QtPrompter:
    host = QWidget()
    qtbot.addWidget(host)
    return QtPrompter(host)


@pytest.fixture
def worker() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def asked(qtbot: QtBot, prompter: QtPrompter, slot: int) -> PromptDialog:
    qtbot.waitUntil(lambda: slot in prompter.dialogs and prompter.dialogs[slot].isVisible())
    return prompter.dialogs[slot]


def answer_of(qtbot: QtBot, future: Future[Answer]) -> Answer:
    qtbot.waitUntil(future.done, timeout=10000)
    return future.result()


def yes_no(worker: ThreadPoolExecutor, prompter: QtPrompter, slot: int = 0, timeout: float = 30.0
           ) -> Future[Answer]:
    return worker.submit(prompter.ask_yes_no, slot, "Is the LED green?", None, timeout)


@pytest.mark.parametrize(("key", "expected"), [(Qt.Key.Key_Y, True), (Qt.Key.Key_N, False),
                                               (Qt.Key.Key_Return, True), (Qt.Key.Key_Enter, True),
                                               (Qt.Key.Key_Escape, False)])
def test_a_yes_no_prompt_answers_from_the_keyboard(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor, key: Qt.Key, expected: bool) -> None:
    future = yes_no(worker, prompter)
    dialog = asked(qtbot, prompter, 0)
    assert dialog.question.text() == "Is the LED green?"
    qtbot.keyClick(dialog, key)
    assert answer_of(qtbot, future) is expected
    qtbot.waitUntil(lambda: 0 not in prompter.dialogs)


@pytest.mark.parametrize("button, expected", [("yes", True), ("no", False)])
def test_the_big_buttons_answer_with_a_click(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor, button: str, expected: bool) -> None:
    future = yes_no(worker, prompter)
    dialog = asked(qtbot, prompter, 0)
    widget = getattr(dialog, button)
    assert widget.minimumHeight() >= 100
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    assert answer_of(qtbot, future) is expected


def test_an_unanswered_prompt_times_out_with_no_answer_and_closes(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    future = yes_no(worker, prompter, timeout=1.0)
    dialog = asked(qtbot, prompter, 0)
    assert "Answer within 1 s" in dialog.countdown.text()
    assert answer_of(qtbot, future) is None
    qtbot.waitUntil(lambda: 0 not in prompter.dialogs)


def test_a_stopped_unit_withdraws_its_prompt_at_once(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    from hardware.progress import CancelToken

    cancel = CancelToken()
    future = worker.submit(prompter.ask_yes_no, 0, "Is the LED green?", None, 600.0, cancel)
    asked(qtbot, prompter, 0)
    cancel.cancel()  # the operator stopped the unit: no one waits 600 s for an answer that no longer matters
    assert answer_of(qtbot, future) is None
    qtbot.waitUntil(lambda: 0 not in prompter.dialogs)


def test_closing_the_prompt_window_is_no_answer(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    future = yes_no(worker, prompter)
    asked(qtbot, prompter, 0).close()
    assert answer_of(qtbot, future) is None


def test_each_slot_gets_its_own_prompt(qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    first, second = yes_no(worker, prompter, slot=0), yes_no(worker, prompter, slot=2)
    one, three = asked(qtbot, prompter, 0), asked(qtbot, prompter, 2)
    assert "Slot 3" in three.windowTitle() and "Slot 1" in one.windowTitle()
    qtbot.keyClick(three, Qt.Key.Key_N)
    qtbot.keyClick(one, Qt.Key.Key_Y)
    assert answer_of(qtbot, first) is True and answer_of(qtbot, second) is False


def number(worker: ThreadPoolExecutor, prompter: QtPrompter, image: Path | None = None) -> Future[Answer]:
    return worker.submit(prompter.ask_number, 1, "Supply voltage on the meter?", image, 30.0)


def test_a_number_prompt_takes_a_typed_number_and_enter(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    future = number(worker, prompter)
    dialog = asked(qtbot, prompter, 1)
    assert dialog.number.isVisible() and not dialog.no.isVisible()
    qtbot.keyClicks(dialog.number, "3,31")
    qtbot.keyClick(dialog.number, Qt.Key.Key_Return)
    assert answer_of(qtbot, future) == pytest.approx(3.31)


def test_a_number_prompt_says_what_is_wrong_with_text_and_waits(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    future = number(worker, prompter)
    dialog = asked(qtbot, prompter, 1)
    qtbot.keyClicks(dialog.number, "abc")
    qtbot.keyClick(dialog.number, Qt.Key.Key_Return)
    assert "'abc' is not a number" in dialog.hint.text()
    assert not future.done()
    dialog.number.clear()
    qtbot.keyClicks(dialog.number, "5")
    qtbot.mouseClick(dialog.yes, Qt.MouseButton.LeftButton)
    assert answer_of(qtbot, future) == 5.0


def test_escape_on_a_number_prompt_is_no_answer(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    future = number(worker, prompter)
    dialog = asked(qtbot, prompter, 1)
    qtbot.keyClick(dialog.number, Qt.Key.Key_Escape)
    assert answer_of(qtbot, future) is None


def test_the_prompt_shows_the_tests_picture(
        qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor, tmp_path: Path) -> None:
    picture = tmp_path / "led.png"
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("green"))
    assert image.save(str(picture))
    future = number(worker, prompter, picture)
    dialog = asked(qtbot, prompter, 1)
    assert dialog.image.pixmap() is not None and not dialog.image.pixmap().isNull()
    dialog.finish(None)
    assert answer_of(qtbot, future) is None


def test_a_closed_prompter_answers_nothing(qtbot: QtBot, prompter: QtPrompter, worker: ThreadPoolExecutor) -> None:
    future = yes_no(worker, prompter)
    asked(qtbot, prompter, 0)
    prompter.close()
    assert answer_of(qtbot, future) is None
    assert prompter.ask_yes_no(0, "Again?", None, 5.0) is None


def test_asking_on_the_gui_thread_is_refused(prompter: QtPrompter) -> None:
    with pytest.raises(RuntimeError, match="worker threads only"):
        prompter.ask_yes_no(0, "Is the LED green?", None, 1.0)
