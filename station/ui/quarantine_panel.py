"""Engineer mode: the product's quarantined devices, approved or denied one at a time on a worker thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from cloud_client.client import ParticleCloud
from hardware.identifiers import DeviceId
from station.product.quarantine import Approval, Denial, QuarantinedDevice, approve, deny, quarantined
from station.ui.tables import add_row, read_only_table
from station.ui.tasks import BackgroundTasks

COLUMNS = ("Device ID", "Platform", "Serial", "Online", "Last heard", "Firmware", "Device OS")

Confirm = Callable[[str], bool]
"""Asks the engineer a yes/no question; True goes ahead."""


def one_line(error: BaseException) -> str:
    """An error's message on one line (the first line of it), for a status label."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class QuarantinePanel(QWidget):
    """Lists the quarantine when asked (``refresh``); Approve and Deny act on the chosen device, then list again."""

    def __init__(self, cloud: ParticleCloud, product_id: int, tasks: BackgroundTasks, *,
                 confirm: Confirm | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cloud = cloud
        self._product_id = product_id
        self._tasks = tasks
        self._confirm = confirm or self._ask
        self.devices: list[QuarantinedDevice] = []
        self.table = read_only_table(COLUMNS, select_rows=True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setToolTip("Make the chosen device a member of the product")
        self.approve_button.clicked.connect(self.approve_selected)
        self.deny_button = QPushButton("Deny")
        self.deny_button.setToolTip("Refuse the chosen device: it leaves the product's quarantine and stays out")
        self.deny_button.clicked.connect(self.deny_selected)
        self.status = QLabel(f"Quarantine of product {product_id}: not listed yet.")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.approve_button, self.deny_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        self._busy = False
        self._last_action = ""
        """What the last approve or deny did, shown with the list that follows it."""
        self._update_buttons()

    def refresh(self) -> None:
        """List the quarantine again on a worker thread."""
        self._set_busy(True)
        self.status.setText(f"Listing the quarantine of product {self._product_id}…")
        cloud, product = self._cloud, self._product_id
        self._tasks.submit(lambda: quarantined(cloud, product), self._show, self._failed("list the quarantine"))

    def selected(self) -> QuarantinedDevice | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self.devices[rows.pop()] if len(rows) == 1 else None

    def approve_selected(self) -> None:
        device = self.selected()
        if device is None:
            return
        cloud, product, device_id = self._cloud, self._product_id, device.device_id
        self._set_busy(True)
        self.status.setText(f"Approving device {device_id} into product {product}…")
        self._tasks.submit(lambda: approve(cloud, product, device_id),
                           lambda result: self._acted(device_id, result),
                           self._failed(f"approve device {device_id}"))

    def deny_selected(self) -> None:
        device = self.selected()
        if device is None:
            return
        device_id, product = device.device_id, self._product_id
        if not self._confirm(f"Deny device {device_id}? It leaves the quarantine of product {product} and "
                             "cannot join the product afterwards."):
            return
        cloud = self._cloud
        self._set_busy(True)
        self.status.setText(f"Denying device {device_id} in product {product}…")
        self._tasks.submit(lambda: deny(cloud, product, device_id),
                           lambda result: self._acted(device_id, result),
                           self._failed(f"deny device {device_id}"))

    def _acted(self, device_id: DeviceId, result: object) -> None:
        words: dict[object, str] = {Approval.APPROVED: f"Device {device_id} approved into product {self._product_id}.",
                 Approval.ALREADY_MEMBER: f"Device {device_id} was already a member of product {self._product_id}.",
                 Denial.DENIED: f"Device {device_id} denied: it stays out of product {self._product_id}.",
                 Denial.NOT_IN_PRODUCT: f"Device {device_id} was no longer in product {self._product_id}."}
        done = words.get(result, f"Device {device_id}: {result}")
        self.refresh()
        self.status.setText(f"{done} Listing the quarantine again…")
        self._last_action = done

    def _show(self, devices: object) -> None:
        assert isinstance(devices, list)
        self._set_busy(False)
        self.devices = devices
        self.table.setRowCount(0)
        for d in devices:
            add_row(self.table, [d.device_id.value, d.platform.display_name if d.platform else "unknown platform",
                              d.serial_number or "", "yes" if d.online else "no", d.last_heard or "",
                              "" if d.firmware_version is None else str(d.firmware_version),
                              d.system_firmware_version or ""], None)
        self.table.resizeRowsToContents()
        listed = (f"{len(devices)} device{'s' if len(devices) != 1 else ''} waiting in the quarantine of product "
                  f"{self._product_id}." + (" Choose one, then Approve or Deny." if devices else ""))
        self.status.setText(f"{self._last_action} {listed}".strip())
        self._last_action = ""
        self._update_buttons()

    def _failed(self, doing: str) -> Callable[[BaseException], None]:
        def show(error: BaseException) -> None:
            self._set_busy(False)
            self._last_action = ""
            self.status.setText(f"✗ Could not {doing} (product {self._product_id}): {one_line(error)}")
        return show

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.refresh_button.setEnabled(not busy)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = not self._busy and self.selected() is not None
        self.approve_button.setEnabled(chosen)
        self.deny_button.setEnabled(chosen)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Deny a quarantined device", question)
        return answer == QMessageBox.StandardButton.Yes
