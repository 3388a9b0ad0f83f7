"""The operator window of a line that started with the cloud unreachable shows the one banner the line emitted
before the window listened."""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import closing

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from station.demo.simulated_line import SimulatedLine
from station.ui.main_window import OperatorWindow
from station.workflow.line import Line
from station.workflow.lot import prepare_lot


def test_window_shows_the_cloud_unreachable_banner(sim: SimulatedLine,
                                                  make_window: Callable[[Line], OperatorWindow]) -> None:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with ParticleCloud(url, Credentials.token(sim.access_token, source="test")) as cloud:
        line = Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="ann", find_timeout=1.0)
        with line.start():
            window = make_window(line)
            assert window.scan_message.text().startswith("✗ cloud unreachable: 0 operations waiting.")
            window.close()
