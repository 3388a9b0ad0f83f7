"""The bridge from the headless line to Qt: workflow events (emitted on worker threads) become queued Qt signals."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from station.workflow.events import EventBus, UnitEvent

log = logging.getLogger(__name__)


class LineBridge(QObject):
    """Subscribes to a line's EventBus; ``unit_event`` fires on the GUI thread for every event, in order.

    The listener runs on the line's slot, cloud and outbox threads and only emits a signal; receivers connect with
    a queued connection, so no view code ever runs on those threads and the line never waits for the GUI.
    """

    unit_event = Signal(object)

    def __init__(self, events: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._attached = True
        self._unsubscribe = events.subscribe(self._on_event)

    def _on_event(self, event: UnitEvent) -> None:
        if not self._attached:
            return
        try:
            self.unit_event.emit(event)
        except RuntimeError:  # the Qt side is already gone (window closed while the line still runs)
            log.debug("event %s dropped: the GUI is closed", event.kind.value)

    def detach(self) -> None:
        """Stop listening; call before the line or the window goes away."""
        self._attached = False
        self._unsubscribe()
