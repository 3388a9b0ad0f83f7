"""The camera view: a live preview whose frames are decoded off the GUI thread (latest frame wins) into label scans."""

from __future__ import annotations

import logging
import time

from PIL import Image
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QImage
from PySide6.QtMultimedia import QCamera, QCameraDevice, QMediaCaptureSession, QMediaDevices, QVideoFrame
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from hardware.identifiers import LabelScan
from hardware.scanner.datamatrix import LabelDecoder, LabelDecodeResult
from hardware.scanner.frames import DecodedFrame, FrameDecodeWorker

log = logging.getLogger(__name__)

REPEAT_AFTER_S = 4.0
"""The same label seen again within this many seconds is the same scan (the label is still in front of the lens)."""
FRAME_INTERVAL_S = 0.1
"""Hand at most ten frames a second to the decoder; the preview itself shows every frame."""


def qimage_to_pil(image: QImage) -> Image.Image:
    """A grey-scale Pillow copy of a QImage (runs on the decoder thread)."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    data = bytes(gray.constBits())
    return Image.frombuffer("L", (width, height), data, "raw", "L", stride, 1).copy()


def video_inputs() -> list[QCameraDevice]:
    """The cameras Qt Multimedia can open (an empty list on a headless PC)."""
    return list(QMediaDevices.videoInputs())


class CameraView(QWidget):
    """Shows the camera (or "no camera found") and emits ``label_read(LabelScan)`` for each new label in view."""

    label_read = Signal(object)
    decode_message = Signal(str)
    _decoded = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, devices: list[QCameraDevice] | None = None) -> None:
        super().__init__(parent)
        self.devices = video_inputs() if devices is None else devices
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(200, 96)
        self.setMaximumHeight(120)
        self.message = QLabel("No camera found" if not self.devices else "Camera off (F3 to start)")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        font = QFont(self.message.font())
        font.setPointSize(12)
        self.message.setFont(font)
        self.message.setStyleSheet("background: #37474f; color: #eceff1; border-radius: 6px; padding: 6px;")
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.message)
        self._decoder = LabelDecoder(max_labels=1)
        self._worker: FrameDecodeWorker[QImage, LabelDecodeResult] | None = None
        self._camera: QCamera | None = None
        self._session: QMediaCaptureSession | None = None
        self._video: QVideoWidget | None = None
        self._last_sent = 0.0
        self._recent: dict[str, float] = {}
        self._last_rejection = ""
        self._decoded.connect(self._on_decoded, Qt.ConnectionType.QueuedConnection)

    @property
    def available(self) -> bool:
        return bool(self.devices)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start_decoding(self) -> None:
        """Start the decoder thread (and the first camera, when one exists)."""
        if self._worker is not None:
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
            self.message.setText("Camera off (F3 to start)")
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


