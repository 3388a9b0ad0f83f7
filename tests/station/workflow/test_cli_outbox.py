"""``particle-station outbox list|retry`` on work queued while the cloud refused connections, and ``run
--cloud-url`` refusing what is no cloud address."""

from __future__ import annotations

import json
import socket
from contextlib import closing
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from station.cli import main
from station.demo.simulated_line import SimulatedLine
from station.records.unit_table import UnitState
from station.workflow.line import Line
from station.workflow.lot import prepare_lot


def _closed_port_url() -> str:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _queue_a_unit(sim: SimulatedLine, url: str) -> tuple[str, int]:
    """Provision one unit while the cloud refuses connections: its cloud work waits in the outbox."""
    with ParticleCloud(url, Credentials.token(sim.access_token, source="test")) as cloud:
        line = Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="ann", find_timeout=1.0, lot="LOT-Q")
        with line.start():
            result = line.scan(sim.devices[0].label).result(timeout=60)
            assert result.state is UnitState.CLOUD_PENDING
            return result.unit_key, line.journal.count_pending()


def test_outbox_list_then_retry_pushes_the_queued_work(sim: SimulatedLine, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    down = _closed_port_url()
    unit_key, waiting = _queue_a_unit(sim, down)
    profile = str(sim.profile.path)
    monkeypatch.setenv("PARTICLE_SIMULATED_ACCESS_TOKEN", sim.access_token)

    assert main(["outbox", "list", "--profile", profile, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["operations"]
    assert len(listed) == waiting and {row["unit"] for row in listed} == {unit_key}
    assert listed[0]["operation"] == "pre_add" and listed[0]["lot"] == "LOT-Q"

    assert main(["outbox", "retry", "--profile", profile, "--cloud-url", down]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("particle-station: error: cloud unreachable") and "\n" not in error

    assert main(["outbox", "retry", "--profile", profile, "--cloud-url", sim.base_url, "--json"]) == 0
    pushed = json.loads(capsys.readouterr().out)
    assert pushed == {"done": waiting, "operations": []}
    device = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == sim.devices[0].device_id.value)
    assert device["product_id"] == sim.profile.product_id and device["groups"] == ["line-a"]

    assert main(["outbox", "list", "--profile", profile]) == 0
    listed_out = capsys.readouterr()
    assert listed_out.out.strip() == "no cloud work waiting" and not listed_out.err  # a result: `> file` keeps it


@pytest.mark.parametrize("url", ["ftp://api.particle.io", "http://", "api.particle.io", "https://host:99999", ""])
def test_run_refuses_a_cloud_url_that_is_no_cloud_address(sim: SimulatedLine, url: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:  # wrong usage: exit 2, with run's usage
        main(["run", "--profile", str(sim.profile.path), "--headless", "--cloud-url", url])
    error = capsys.readouterr().err.strip()
    assert exited.value.code == 2
    assert error.startswith("usage: particle-station run ")
    assert error.splitlines()[-1] == (f"particle-station run: error: argument --cloud-url: {url!r} is not a cloud "
                                      "address: give an http or https URL with a host, e.g. https://api.particle.io")
    assert not (Path(sim.profile.log_folder) / "journal.sqlite3").exists()
