"""The operator screen: a large panel per slot, the lot bar, the scan field that keeps the focus, and the shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from hardware.identifiers import LabelScan
from hardware.scanner.labels import redact
from station.config.profile import StationProfile
from station.errors import StationError
from station.ui.bridge import LineBridge
from station.ui.camera import CameraView
from station.ui.lot_bar import LotBar, LotRefresher
from station.ui.operator_keys import ENGINEER_KEYS, HELP
from station.ui.scan_field import ScanField
from station.ui.slot_panel import SlotPanel
from station.ui.slot_state import Phase
from station.ui.sounds import ResultSounds
from station.ui.tasks import BackgroundTasks
from station.ui.test_prompt import QtPrompter
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line

if TYPE_CHECKING:  # engineer mode and the PIN dialog load when first opened, not before the window shows
    from PySide6.QtMultimedia import QCameraDevice

    from hardware.scanner.serial_scanner import SerialScanner
    from station.ui.engineer import EngineerDialog
    from station.ui.operator_dialog import OperatorDialog
    from station.ui.pin_dialog import PinDialog
    from station.ui.serial_feed import SerialScanFeed

class ScanSimulator(Protocol):
    """The demo's stand-in for a hand scanner."""

    def next_label(self) -> str: ...

    def wrong_label(self) -> str: ...


LineFactory = Callable[[StationProfile], Line]
UrlOpener = Callable[[QUrl], bool]


class OperatorWindow(QMainWindow):
    """A view of ``line``. The caller owns and closes ``window.line``; a line the window replaced it closes itself."""

    def __init__(self, line: Line, *, line_factory: LineFactory | None = None,
                 simulator: ScanSimulator | None = None, sounds: ResultSounds | None = None,
                 cameras: list[QCameraDevice] | None = None, open_url: UrlOpener = QDesktopServices.openUrl,
                 ask_operator: bool = False) -> None:
        super().__init__()
        self.line = line
        self.line_factory = line_factory
        self.simulator = simulator
        self.open_url = open_url
        self.tasks = BackgroundTasks(self, workers=3)
        self.sounds = sounds or ResultSounds(parent=self)
        self.tasks.submit(self.sounds.prepare)
        self.bridge: LineBridge | None = None
        self.prompter = QtPrompter(self)  # the tests' operator prompts (Yes/No, a number) of every slot
        self.panels: dict[int, SlotPanel] = {}
        self.pin_dialog: PinDialog | None = None
        self.engineer_dialog: EngineerDialog | None = None
        self.operator_dialog: OperatorDialog | None = None
        self.operator_needed = ask_operator
        """The profile asks the operator's name and none was given yet: scans wait for it."""
        self.help_box: QMessageBox | None = None
        self._closed = False

        self.lot_bar = LotBar()
        self.panel_host = QWidget()
        self.panel_grid = QGridLayout(self.panel_host)
        self.panel_grid.setSpacing(10)
        self.panel_grid.setContentsMargins(0, 0, 0, 0)
        self.scan_field = ScanField()
        self.scan_field.submitted.connect(self.submit_scan)
        self.scan_message = QLabel("")
        self.scan_message.setWordWrap(True)
        font = QFont(self.scan_message.font())
        font.setPointSize(15)
        font.setBold(True)
        self.scan_message.setFont(font)
        self.scan_message.setMinimumHeight(34)
        self.camera = CameraView(devices=cameras)
        self.camera.label_read.connect(self.submit_scan)
        self.camera.decode_message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        caption = QLabel("Scan label")
        caption.setFont(font)
        scan_column = QVBoxLayout()
        scan_row = QHBoxLayout()
        scan_row.addWidget(caption)
        scan_row.addWidget(self.scan_field, 1)
        scan_column.addLayout(scan_row)
        scan_column.addWidget(self.scan_message)
        bottom = QHBoxLayout()
        bottom.addLayout(scan_column, 1)
        bottom.addWidget(self.camera)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.lot_bar)
        layout.addWidget(self.panel_host, 1)
        layout.addLayout(bottom)
        self.setCentralWidget(central)
        self._build_actions()
        for widget in central.findChildren(QWidget):
            if widget is not self.scan_field:
                widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.lot_refresher = LotRefresher(self.lot_bar, self.tasks, lambda: self.line, self)
        self.lot_refresher.failed.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self._message_timer = QTimer(self)  # owned by the window: never fires after it is gone
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(8000)
        self._message_timer.timeout.connect(self._clear_message)
        self._focus_timer = QTimer(self)
        self._focus_timer.setSingleShot(True)
        self._focus_timer.setInterval(0)
        self._focus_timer.timeout.connect(self.focus_scan_field)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        self.resize(1280, 860)
        self._bind(line)
        if ask_operator:
            QTimer.singleShot(0, self, self.ask_operator_name)

    # --- actions and shortcuts ----------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        toolbar = QToolBar("Station")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setStyleSheet("QToolButton { font-size: 13pt; padding: 6px 14px; }")
        self.addToolBar(toolbar)
        self.simulate_action = self._action("Simulate scan  (F2)", "F2", self.simulate_scan, toolbar)
        self.simulate_wrong_action = self._action("Simulate wrong label  (Shift+F2)", "Shift+F2",
                                                  self.simulate_wrong_label, toolbar)
        for action in (self.simulate_action, self.simulate_wrong_action):
            action.setVisible(self.simulator is not None)
            action.setEnabled(self.simulator is not None)
        self.camera_action = self._action("Camera  (F3)", "F3", self.toggle_camera, toolbar)
        self.camera_action.setCheckable(True)
        self.camera_action.setEnabled(self.camera.available)
        if not self.camera.available:
            self.camera_action.setToolTip("No camera found")
        self.operator_action = self._action("Operator…  (F4)", "F4", self.ask_operator_name, toolbar)
        self.engineer_action = self._action("Engineer mode  (F9)", ENGINEER_KEYS[0], self.open_engineer_mode, toolbar)
        self.engineer_action.setShortcuts([QKeySequence(key) for key in ENGINEER_KEYS])
        self.help_action = self._action("Help  (F1)", "F1", self.show_help, toolbar)
        self._action("Quit", "Ctrl+Q", self.close, None)
        self.stop_actions = [self._action(f"Stop slot {n}", f"Ctrl+{n}", lambda _=False, s=n - 1: self.stop_slot(s),
                                          None) for n in range(1, 10)]
        for button in toolbar.findChildren(QWidget):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scan_field.window_keys = {
            sequence for action in self.actions() for sequence in action.shortcuts() if not sequence.isEmpty()}

    def _action(self, text: str, shortcut: str, slot: Callable[..., object], toolbar: QToolBar | None) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        if toolbar is not None:
            toolbar.addAction(action)
        return action

    # --- the line ------------------------------------------------------------------------------------------------
    def _bind(self, line: Line) -> None:
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge.deleteLater()
        self.line = line
        line.use_prompter(self.prompter)
        self.bridge = LineBridge(line.events, self)
        self.bridge.unit_event.connect(self.on_event, Qt.ConnectionType.QueuedConnection)
        for panel in self.panels.values():
            panel.deleteLater()
        self.panels = {}
        count = line.profile.slots.count
        columns = count if count <= 4 else 4  # one row up to four slots: tall panels keep PASS/FAIL big
        for slot in range(count):
            panel = SlotPanel(slot, compact=count > 2)
            panel.stop_requested.connect(self.stop_slot)
            self.panel_grid.addWidget(panel, slot // columns, slot % columns)
            self.panels[slot] = panel
        for column in range(self.panel_grid.columnCount()):  # equal widths, whatever text each panel shows
            self.panel_grid.setColumnStretch(column, 1 if column < columns else 0)
        self.setWindowTitle(f"Particle provisioning · {line.profile.station_name} · product {line.profile.product_id}"
                            f" ({line.profile.platform.display_name})")
        self.statusBar().showMessage(
            "Scan a label to start · " + ("F2 simulate a scan · " if self.simulator else "")
            + "F9 engineer mode · F1 help")
        self.lot_refresher.refresh()
        for notice in line.notices_at_start:  # the line started before the window listened
            self.on_event(notice)

    def on_event(self, event: UnitEvent) -> None:
        """A workflow event, on the GUI thread (queued by the bridge): update the panel, play the sound."""
        panel = self.panels.get(event.slot) if event.slot is not None else None
        if panel is not None:
            state = panel.state.apply(event)
            if state != panel.state:
                panel.show_state(state)
        elif event.kind is EventKind.UNIT_UPDATED:
            for candidate in self.panels.values():
                if candidate.state.unit_key == event.unit_key and candidate.state.phase is not Phase.RUNNING:
                    candidate.show_state(candidate.state.apply(event))
        if event.kind is EventKind.NOTICE and (panel is None or event.data.get("refused")):
            # A scan refused in a slot's thread (no device, or not this label's device) is no unit: the panel stays
            # as it was and the scan line says why.
            self.show_message(" ".join(filter(None, (event.message, event.action))), error=True)
        if event.kind is EventKind.UNIT_FINISHED and event.status == "FAIL":
            self.sounds.play_fail()
        elif event.kind is EventKind.UNIT_FINISHED:
            self.sounds.play_pass()
        elif event.kind is EventKind.NOTICE and event.slot is not None:
            self.sounds.play_fail()
        if event.kind in (EventKind.UNIT_STARTED, EventKind.UNIT_FINISHED, EventKind.UNIT_UPDATED) or (
                event.kind is EventKind.NOTICE and event.data.get("refused")):
            self.lot_refresher.request()
        if (event.kind is EventKind.STEP_ENDED and event.step in ("find", "identify") and event.status == "passed"
                and panel is not None and event.unit_key is not None):
            self._look_up_device_id(panel, event.unit_key)

    def _look_up_device_id(self, panel: SlotPanel, unit_key: str) -> None:
        journal, lot = self.line.journal, self.line.lot

        def show(unit: object) -> None:
            device_id = getattr(unit, "device_id", None)
            if device_id and panel.state.unit_key == unit_key and panel.state.device_id != device_id:
                panel.show_state(replace(panel.state, device_id=device_id))

        self.tasks.submit(lambda: journal.unit_table.by_key(lot, unit_key), show)

    # --- scanning -----------------------------------------------------------------------------------------------
    def submit_scan(self, label: object, slot: int | None = None) -> bool:
        """Start the unit behind a scanned label (text or LabelScan) on ``slot`` (default: the first free one).

        A bad scan shows why, in plain words, and plays the FAIL sound. True when the unit started.
        """
        text = str(label) if not isinstance(label, LabelScan) else label.serial.value
        if self.operator_needed:
            from station.ui.operator_dialog import NAME_FIRST

            self.show_message(NAME_FIRST, error=True)
            self.sounds.play_fail()
            return False
        try:
            scan = label if isinstance(label, LabelScan) else self.line.parse_label(str(label))
            self.line.scan(scan, slot=slot)
        except StationError as exc:
            self.show_message(redact(str(exc), text), error=True)
            self.sounds.play_fail()
            return False
        self.show_message(f"Label {scan.serial} accepted: starting.", error=False)
        return True

    def attach_scanner(self, scanner: SerialScanner) -> SerialScanFeed:
        """Take the labels of a serial barcode scanner as scans (``run --scanner PORT``); the caller stops the feed."""
        from station.ui.serial_feed import SerialScanFeed

        feed = SerialScanFeed(scanner, self)
        feed.scanned.connect(self.submit_scan, Qt.ConnectionType.QueuedConnection)
        feed.problem.connect(lambda text: self.show_message(text, error=True), Qt.ConnectionType.QueuedConnection)
        self.statusBar().showMessage(f"Reading labels from the scanner on {scanner.port_name}.", 15000)
        return feed.start()

    def show_message(self, text: str, *, error: bool) -> None:
        self.scan_message.setText(("✗ " if error else "✓ ") + text)
        self.scan_message.setStyleSheet(
            "color: #b71c1c; background: #ffebee; border-radius: 6px; padding: 4px 8px;" if error
            else "color: #1b5e20; padding: 4px 8px;")
        self.statusBar().showMessage(text, 15000)
        if error:  # an error stays until the next scan; a confirmation fades
            self._message_timer.stop()
        else:
            self._message_timer.start()

    def _clear_message(self) -> None:
        self.scan_message.setText("")
        self.scan_message.setStyleSheet("")

    def simulate_scan(self) -> None:
        """The demo's F2: the simulator may plug in a fresh simulated unit first, so it runs on a worker thread."""
        if self.simulator is not None:
            self.tasks.submit(self.simulator.next_label, self.submit_scan, self._simulator_failed)

    def simulate_wrong_label(self) -> None:
        if self.simulator is not None:
            self.tasks.submit(self.simulator.wrong_label, self.submit_scan, self._simulator_failed)

    def _simulator_failed(self, error: BaseException) -> None:
        self.show_message(f"The simulator could not produce a label: {error}", error=True)

    def stop_slot(self, slot: int) -> None:
        if slot in self.panels and self.panels[slot].state.phase is Phase.RUNNING:
            self.line.cancel(slot)
            self.show_message(f"Stopping slot {slot + 1} at the next safe point…", error=False)

    # --- focus: the scan field always gets it back ---------------------------------------------------------------
    def focus_scan_field(self) -> None:
        if self.isActiveWindow() or QApplication.activeModalWidget() is None:
            self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and new is not self.scan_field and new.window() is self and not self._closed:
            self._focus_timer.start()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow() and not self._closed:
            self._focus_timer.start()

    # --- engineer mode ------------------------------------------------------------------------------------------
    def ask_operator_name(self) -> None:
        from station.ui.operator_dialog import OperatorDialog

        self.operator_dialog = OperatorDialog(self.line, self)
        self.operator_dialog.named.connect(self._operator_named)
        self.operator_dialog.finished.connect(self.focus_scan_field)
        self.operator_dialog.open()

    def _operator_named(self, name: str) -> None:
        self.operator_needed = False
        self.show_message(f"Operator {name}: scan a label.", error=False)
        self.lot_refresher.request()

    def open_engineer_mode(self) -> None:
        """Ask for the PIN (when the profile sets one), then open engineer mode."""
        lock = self.line.profile.operator
        if not lock.enabled:
            self._show_engineer()
            return
        from station.ui.pin_dialog import PinDialog

        self.pin_dialog = PinDialog(lock, self.tasks, self)
        self.pin_dialog.accepted.connect(self._show_engineer)
        self.pin_dialog.finished.connect(self.focus_scan_field)
        self.pin_dialog.open()

    def _show_engineer(self) -> None:
        from station.ui.engineer import EngineerDialog

        switch = self.switch_profile if self.line_factory is not None else None
        self.engineer_dialog = EngineerDialog(self.line, self.tasks, open_url=self.open_url, switch_profile=switch,
                                              parent=self)
        self.engineer_dialog.finished.connect(self.focus_scan_field)
        self.engineer_dialog.open()

    def switch_profile(self, profile: StationProfile) -> None:
        """Restart the line with another profile (only when no unit runs); the old line is closed."""
        factory = self.line_factory
        if factory is None:
            return
        if self.line.busy_slots():
            self.show_message("Units are running: let them finish (or stop them) before changing the profile.",
                              error=True)
            return
        old = self.line

        def ready(new: object) -> None:
            assert isinstance(new, Line)
            if self.engineer_dialog is not None:
                self.engineer_dialog.close()
            new.set_operator(old.operator)
            self._bind(new)
            self.tasks.submit(old.close)
            self.show_message(f"The line now runs profile {profile.path.name} (lot {new.lot}).", error=False)

        self.tasks.submit(lambda: factory(profile), ready,
                          lambda error: self.show_message(f"The profile cannot be used: {error}", error=True))

    # --- camera, help, closing ----------------------------------------------------------------------------------
    def toggle_camera(self) -> None:
        if not self.camera.available:
            self.camera_action.setChecked(False)
            self.show_message("No camera found: connect a USB camera and restart the station.", error=True)
            return
        if self.camera.running:
            self.camera.stop()
        else:
            self.camera.start_decoding()
        self.camera_action.setChecked(self.camera.running)

    def show_help(self) -> None:
        self.help_box = QMessageBox(QMessageBox.Icon.Information, "Keyboard", HELP, QMessageBox.StandardButton.Close,
                                    self)
        self.help_box.setTextFormat(Qt.TextFormat.RichText)
        self.help_box.finished.connect(self.focus_scan_field)
        self.help_box.open()

    def closeEvent(self, event: QEvent) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication) and not self._closed:
            app.focusChanged.disconnect(self._focus_changed)
        self._closed = True
        self.prompter.close()
        if self.bridge is not None:
            self.bridge.detach()
        self.camera.stop()
        self.lot_refresher.stop()
        self.tasks.shutdown()
        super().closeEvent(event)  # type: ignore[arg-type]
