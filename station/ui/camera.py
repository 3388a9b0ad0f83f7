"""The camera view: a live preview whose frames are decoded off the GUI thread (latest frame wins) into label scans.

Qt Multimedia and the label decoder (libdmtx) load only when the view looks for cameras or starts decoding: without
their system libraries the view says what is missing, and the rest of the station works.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from hardware.identifiers import LabelScan
from hardware.scanner.frames import DecodedFrame, FrameDecodeWorker
from station.ui.multimedia import multimedia_problem

if TYPE_CHECKING:
    from PIL import Image
    from PySide6.QtMultimedia import QCamera, QCameraDevice, QMediaCaptureSession, QVideoFrame
    from PySide6.QtMultimediaWidgets import QVideoWidget

    from hardware.scanner.datamatrix import LabelDecoder, LabelDecodeResult

log = logging.getLogger(__name__)

REPEAT_AFTER_S = 4.0
"""The same label seen again within this many seconds is the same scan (the label is still in front of the lens)."""
FRAME_INTERVAL_S = 0.1
"""Hand at most ten frames a second to the decoder; the preview itself shows every frame."""


def qimage_to_pil(image: QImage) -> Image.Image:
    """A grey-scale Pillow copy of a QImage (runs on the decoder thread)."""
    from PIL import Image

    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    data = bytes(gray.constBits())
    return Image.frombuffer("L", (width, height), data, "raw", "L", stride, 1).copy()


def video_inputs() -> list[QCameraDevice]:
    """The cameras Qt Multimedia can open (an empty list on a headless PC); ImportError without Qt Multimedia."""
    from PySide6.QtMultimedia import QMediaDevices

    return list(QMediaDevices.videoInputs())


class CameraView(QWidget):
    """Shows the camera (or "no camera found") and emits ``label_read(LabelScan)`` for each new label in view."""

    label_read = Signal(object)
    decode_message = Signal(str)
    _decoded = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, devices: list[QCameraDevice] | None = None) -> None:
        super().__init__(parent)
        self.devices: list[QCameraDevice] = []
        self.unavailable: str | None = None
        """Why the camera cannot work on this PC (a missing system library), or None."""
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(200, 96)
        self.setMaximumHeight(120)
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        font = QFont(self.message.font())
        font.setPointSize(12)
        self.message.setFont(font)
        self.message.setStyleSheet("background: #37474f; color: #eceff1; border-radius: 6px; padding: 6px;")
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.message)
        self._decoder: LabelDecoder | None = None
        self._worker: FrameDecodeWorker[QImage, LabelDecodeResult] | None = None
        self._camera: QCamera | None = None
        self._session: QMediaCaptureSession | None = None
        self._video: QVideoWidget | None = None
        self._last_sent = 0.0
        self._recent: dict[str, float] = {}
        self._last_rejection = ""
        self._decoded.connect(self._on_decoded, Qt.ConnectionType.QueuedConnection)
        if devices is None:
            self.find_cameras()
        else:
            self.devices = devices
            self._show_idle()

    @property
    def available(self) -> bool:
        return bool(self.devices) and self.unavailable is None

    @property
    def running(self) -> bool:
        return self._worker is not None

    def find_cameras(self) -> None:
        """Ask Qt Multimedia for the cameras now (loading it, and its audio and video plugins, on first use), and
        load the label decoder when there is a camera. Call it on the GUI thread before the line gets busy (see
        ``ResultSounds.open_audio``)."""
        try:
            self.devices = video_inputs()
        except ImportError as exc:
            self.devices = []
            self._set_unavailable(multimedia_problem(exc))
            return
        if self.devices:
            self._load_decoder()
        self._show_idle()

    def _load_decoder(self) -> bool:
        """The label decoder (libdmtx), loaded on first use; False, with the view saying why, without libdmtx."""
        if self._decoder is None and self.unavailable is None:
            try:
                from hardware.scanner.datamatrix import LabelDecoder
            except ImportError as exc:  # LibdmtxMissingError: one line naming the package to install
                self._set_unavailable(str(exc))
                return False
            self._decoder = LabelDecoder(max_labels=1)
        return self._decoder is not None

    def _show_idle(self) -> None:
        if self._camera is not None:
            return
        if self.unavailable is not None:
            self.message.setText(f"Camera unavailable: {self.unavailable}")
        else:
            self.message.setText("No camera found" if not self.devices else "Camera off (F3 to start)")

    def _set_unavailable(self, why: str) -> None:
        log.warning("the camera is unavailable: %s", why)
        self.unavailable = why
        self._show_idle()
        self.decode_message.emit(f"Camera unavailable: {why}")

    def start_decoding(self) -> None:
        """Start the decoder thread (and the first camera, when one exists)."""
        if self._worker is not None or not self._load_decoder():
            return
        self._worker = FrameDecodeWorker(self._decode, self._decoded.emit, on_error=self._on_error,
                                         name="camera-label-decoder")
        self._worker.start()
        if self.devices:
            self._start_camera()

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()
            self._camera = None
            self._stack.setCurrentWidget(self.message)
            self._show_idle()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.stop()

    def submit_image(self, image: QImage) -> bool:
        """Offer a frame to the decoder; dropped when frames come faster than FRAME_INTERVAL_S. True if taken."""
        if not self._wants_frame():
            return False
        assert self._worker is not None
        self._worker.submit(image.copy())
        return True

    def _wants_frame(self) -> bool:
        now = time.monotonic()
        if self._worker is None or now - self._last_sent < FRAME_INTERVAL_S:
            return False
        self._last_sent = now
        return True

    def _offer_frame(self, frame: QVideoFrame) -> None:
        if self._wants_frame() and self._worker is not None:  # convert only the frames the decoder will take
            self._worker.submit(frame.toImage())

    def _start_camera(self) -> None:
        try:
            from PySide6.QtMultimedia import QCamera, QMediaCaptureSession
            from PySide6.QtMultimediaWidgets import QVideoWidget
        except ImportError as exc:
            self.stop()
            self._set_unavailable(multimedia_problem(exc))
            return
        self._video = QVideoWidget()
        self._stack.addWidget(self._video)
        self._camera = QCamera(self.devices[0])
        self._session = QMediaCaptureSession()
        self._session.setCamera(self._camera)
        self._session.setVideoOutput(self._video)
        self._video.videoSink().videoFrameChanged.connect(self._offer_frame)
        self._camera.errorOccurred.connect(lambda _error, text: self.decode_message.emit(f"Camera: {text}"))
        self._camera.start()
        self._stack.setCurrentWidget(self._video)

    def _decode(self, image: QImage) -> LabelDecodeResult:
        assert self._decoder is not None
        return self._decoder.decode(qimage_to_pil(image))

    def _on_error(self, number: int, error: Exception) -> None:
        log.warning("camera frame %d could not be decoded: %s", number, error)

    def _on_decoded(self, decoded: DecodedFrame[LabelDecodeResult]) -> None:
        now = time.monotonic()
        self._recent = {k: t for k, t in self._recent.items() if now - t < REPEAT_AFTER_S}
        for found in decoded.result.labels:
            label: LabelScan = found.label
            key = label.serial.value
            if key not in self._recent:
                self.label_read.emit(label)
            self._recent[key] = now
        for rejected in decoded.result.rejections:
            if rejected.reason != self._last_rejection:
                self.decode_message.emit(rejected.reason)
            self._last_rejection = rejected.reason


