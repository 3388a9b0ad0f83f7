"""Engineer mode: the profile and its firmware, another profile or firmware file to inspect, and their mismatches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hardware.errors import HardwareError
from hardware.firmware import FirmwareModule, load_module
from station.config.profile import StationProfile
from station.config.profile_loader import load_profile
from station.errors import StationError
from station.ui.firmware_facts import firmware_rows, firmware_warnings, profile_rows, profile_snippet
from station.ui.tasks import BackgroundTasks

ProfileSwitch = Callable[[StationProfile], None]


def _fill(form: QFormLayout, rows: list[tuple[str, str]]) -> None:
    while form.rowCount():
        form.removeRow(0)
    for name, value in rows:
        label = QLabel(value)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(f"{name}:", label)


class FirmwarePanel(QWidget):
    """Shows the line's profile and firmware; ``inspect_profile``/``inspect_firmware`` load others in the background."""

    def __init__(self, profile: StationProfile, module: FirmwareModule, tasks: BackgroundTasks,
                 switch_profile: ProfileSwitch | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._switch = switch_profile
        self.profile = profile
        self.module = module
        self.chosen_profile: StationProfile | None = None

        self.profile_form = QFormLayout()
        self.choose_profile = QPushButton("Choose another profile…")
        self.choose_profile.clicked.connect(self._pick_profile)
        self.use_profile = QPushButton("Use this profile")
        self.use_profile.setEnabled(False)
        self.use_profile.setToolTip("Restart the line with the chosen profile (only when no unit is running)")
        self.use_profile.clicked.connect(self._use_profile)
        profile_box = QGroupBox("Station profile")
        profile_layout = QVBoxLayout(profile_box)
        profile_layout.addLayout(self.profile_form)
        row = QHBoxLayout()
        row.addWidget(self.choose_profile)
        row.addWidget(self.use_profile)
        row.addStretch(1)
        profile_layout.addLayout(row)

        self.firmware_form = QFormLayout()
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.choose_firmware = QPushButton("Inspect a firmware file…")
        self.choose_firmware.clicked.connect(self._pick_firmware)
        self.copy_settings = QPushButton("Copy [firmware] settings")
        self.copy_settings.setToolTip("Copy the profile lines that select this file and pin its SHA-256")
        self.copy_settings.clicked.connect(self._copy_settings)
        firmware_box = QGroupBox("Firmware")
        firmware_layout = QVBoxLayout(firmware_box)
        firmware_layout.addLayout(self.firmware_form)
        firmware_layout.addWidget(self.warnings)
        row = QHBoxLayout()
        row.addWidget(self.choose_firmware)
        row.addWidget(self.copy_settings)
        row.addStretch(1)
        firmware_layout.addLayout(row)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(profile_box)
        layout.addWidget(firmware_box)
        layout.addWidget(self.status)
        layout.addStretch(1)
        _fill(self.profile_form, profile_rows(profile))
        self.show_firmware(module)

    # --- showing ------------------------------------------------------------------------------------------------
    def show_firmware(self, module: FirmwareModule) -> None:
        self.module = module
        _fill(self.firmware_form, firmware_rows(module))
        against = self.chosen_profile or self.profile
        warnings = firmware_warnings(module, against)
        if warnings:
            self.warnings.setText("⚠ Does not fit the profile:\n• " + "\n• ".join(warnings))
            self.warnings.setStyleSheet("color: #b71c1c; font-weight: bold;")
        else:
            self.warnings.setText(f"✓ Fits the profile (product {against.product_id}, "
                                  f"{against.platform.display_name}).")
            self.warnings.setStyleSheet("color: #1b5e20; font-weight: bold;")

    def show_profile(self, profile: StationProfile) -> None:
        self.chosen_profile = profile
        _fill(self.profile_form, profile_rows(profile))
        self.use_profile.setEnabled(self._switch is not None and profile.path != self.profile.path)
        if profile.firmware.file is not None:
            self.inspect_firmware(profile.firmware.file)

    # --- loading in the background ------------------------------------------------------------------------------
    def inspect_profile(self, path: Path) -> None:
        self.status.setText(f"Reading {path}…")
        self._tasks.submit(lambda: load_profile(path), self._profile_loaded, self._load_failed)

    def inspect_firmware(self, path: Path) -> None:
        self.status.setText(f"Reading {path}…")
        self._tasks.submit(lambda: load_module(path), self._firmware_loaded, self._load_failed)

    def _profile_loaded(self, profile: object) -> None:
        assert isinstance(profile, StationProfile)
        self.status.setText("")
        self.show_profile(profile)

    def _firmware_loaded(self, module: object) -> None:
        assert isinstance(module, FirmwareModule)
        self.status.setText("")
        self.show_firmware(module)

    def _load_failed(self, error: BaseException) -> None:
        if isinstance(error, StationError | HardwareError | OSError):
            self.status.setText(f"✗ {error}")
        else:
            self.status.setText(f"✗ Unexpected error: {type(error).__name__}: {error}")
        self.status.setStyleSheet("color: #b71c1c;")

    # --- buttons ------------------------------------------------------------------------------------------------
    def _pick_profile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a station profile", str(self.profile.path.parent),
                                              "Station profiles (*.toml)")
        if path:
            self.inspect_profile(Path(path))

    def _pick_firmware(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a firmware file", str(self.profile.path.parent),
                                              "Firmware (*.bin);;All files (*)")
        if path:
            self.inspect_firmware(Path(path))

    def _use_profile(self) -> None:
        if self._switch is not None and self.chosen_profile is not None:
            self._switch(self.chosen_profile)

    def _copy_settings(self) -> None:
        QGuiApplication.clipboard().setText(profile_snippet(self.module))
        self.status.setText("Copied the [firmware] lines for this file; paste them into the profile.")
        self.status.setStyleSheet("")
