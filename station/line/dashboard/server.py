"""The line dashboard's web server (aiohttp): the page, its JSON, live updates by server-sent events, CSV export.

Read-only from end to end: only GET routes; the database is read through ``line_dashboard`` (SELECT only) in READ
ONLY transactions. Bound to 127.0.0.1 unless told otherwise; the page and its script come from this package (no asset
from the internet: the Content-Security-Policy allows 'self' only). One watcher per server polls a cheap change mark
every second and re-reads the figures when the line changed (or every ``refresh_s``, as the windows roll), so any
number of screens costs the database one reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import web

from station.line.dashboard import export
from station.line.dashboard.queries import READ_ONLY_OPTIONS
from station.line.dashboard.reader import DashboardError, LineReader, connection_string, redact

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
PAGES = {"index.html": "text/html", "app.js": "text/javascript", "charts.js": "text/javascript",
         "style.css": "text/css", "favicon.svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class Figures:
    """The latest snapshot as the page receives it, and who waits for the next one."""

    body: bytes = b"{}"
    version: int = 0
    closing: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


@dataclass(frozen=True)
class Settings:
    db_url: str = field(repr=False)
    poll_s: float
    refresh_s: float
    loopback_only: bool = True
    """Bound to a loopback address: answer only requests addressed to it (a web page elsewhere that points its own
    host name at 127.0.0.1, DNS rebinding, must not read the line's figures through the manager's browser)."""


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
SETTINGS = web.AppKey("settings", Settings)
FIGURES = web.AppKey("figures", Figures)
READER = web.AppKey("reader", LineReader)


async def _watch(app: web.Application) -> None:
    """Re-read the figures when the change mark moves (or ``refresh_s`` passed) and wake every event stream."""
    reader, figures = app[READER], app[FIGURES]
    poll_s, refresh_s = app[SETTINGS].poll_s, app[SETTINGS].refresh_s
    loop = asyncio.get_running_loop()
    mark: tuple[Any, ...] | None = None
    read_at = 0.0
    problem: str | None = None
    last: dict[str, Any] = {}
    while True:
        try:
            new_mark = await loop.run_in_executor(None, reader.change_mark)
            if new_mark != mark or problem or time.monotonic() - read_at >= refresh_s:
                last = await loop.run_in_executor(None, reader.snapshot)
                mark, read_at, problem = new_mark, time.monotonic(), None
                await _publish(figures, {**last, "error": None})
        except DashboardError as exc:
            if str(exc) != problem:
                log.warning("line dashboard: %s", exc)
                problem = str(exc)
                await _publish(figures, {**last, "error": f"{exc} (retrying; the figures shown are the last read)"})
        except Exception as exc:  # a row the figures cannot take: say so on the page, never stop watching
            if repr(exc) != problem:
                log.exception("line dashboard: cannot compute the figures")
                problem = repr(exc)
                await _publish(figures, {**last, "error": f"the dashboard cannot compute the figures ({exc}); "
                                                          "the figures shown are the last read"})
        await asyncio.sleep(poll_s)


async def _publish(figures: Figures, data: dict[str, Any]) -> None:
    async with figures.changed:
        figures.body = json.dumps(_finite(data), separators=(",", ":"), allow_nan=False, default=str).encode()
        figures.version += 1
        figures.changed.notify_all()


def _finite(value: Any) -> Any:
    """NaN and infinities (a measurement a station recorded as NaN) as null: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def _start_watcher(app: web.Application) -> AsyncIterator[None]:
    app[FIGURES] = Figures()
    task = asyncio.create_task(_watch(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await asyncio.get_running_loop().run_in_executor(None, app[READER].close)


@web.middleware
async def _headers(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    if request.app[SETTINGS].loopback_only and _host_name(request.host) not in LOOPBACK_NAMES:
        raise web.HTTPMisdirectedRequest(text="this dashboard answers only at 127.0.0.1 or localhost")
    response: web.StreamResponse = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _page(request: web.Request) -> web.StreamResponse:
    name = request.match_info.get("name", "index.html")
    if name not in PAGES:
        raise web.HTTPNotFound()
    return web.Response(body=(STATIC / name).read_bytes(), content_type=PAGES[name], charset="utf-8")


async def _close_streams(app: web.Application) -> None:
    figures = app[FIGURES]
    async with figures.changed:
        figures.closing = True
        figures.changed.notify_all()


async def _figures(request: web.Request) -> web.Response:
    figures = request.app[FIGURES]
    async with figures.changed:
        if figures.version == 0:
            await figures.changed.wait_for(lambda: figures.version > 0)
        body = figures.body
    return web.Response(body=body, content_type="application/json")


async def _events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the figures now, then every time they change (and a comment every 15 s to keep the
    connection open through proxies)."""
    figures = request.app[FIGURES]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    seen = 0

    def news() -> bool:
        return figures.version > seen or figures.closing

    while not figures.closing:
        async with figures.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(figures.changed.wait_for(news), timeout=15)
            version, body = figures.version, figures.body
        if figures.closing:
            break
        try:
            if version > seen:
                await response.write(b"event: figures\ndata: " + body + b"\n\n")
                seen = version
            else:
                await response.write(b": still here\n\n")
        except (ConnectionResetError, RuntimeError):
            break
    return response


async def _export(request: web.Request) -> web.StreamResponse:
    table = request.match_info["table"]
    if table not in export.TABLES:
        raise web.HTTPNotFound(text=f"no table {table!r}: one of {', '.join(export.TABLES)}")
    station, lot = request.query.get("station"), request.query.get("lot")
    try:
        conn = await psycopg.AsyncConnection.connect(connection_string(request.app[SETTINGS].db_url),
                                                     options=READ_ONLY_OPTIONS, connect_timeout=5)
    except psycopg.Error as exc:
        raise web.HTTPServiceUnavailable(text=f"cannot reach the line database: {_first_line(exc)}") from None
    filename = f"line-{table}{'-' + _safe(station) if station else ''}{'-' + _safe(lot) if lot else ''}.csv"
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{filename}"'})
    try:
        async with conn:
            chunks = export.csv_chunks(conn, table, station=station, lot=lot)
            try:
                first = await anext(chunks)
            except psycopg.Error as exc:
                raise web.HTTPServiceUnavailable(text=f"export failed: {_first_line(exc)}") from None
            await response.prepare(request)
            await response.write(first)
            async for chunk in chunks:
                await response.write(chunk)
    except psycopg.Error as exc:  # after the header went out: the download ends short, the log says why
        log.warning("line dashboard: export of %s stopped: %s", table, _first_line(exc))
    await response.write_eof()
    return response


def _host_name(host: str) -> str:
    """The name in a Host header, without its port (``[::1]:8080`` gives ``::1``)."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def create_app(db_url: str, *, window_hours: float = 24.0, poll_s: float = 1.0, refresh_s: float = 30.0,
               clock: Callable[[], float] = time.time, host: str = "127.0.0.1") -> web.Application:
    """The dashboard as an aiohttp application (checks the database and its schema first: one sentence if not);
    ``host`` is where it will listen (a loopback address: it answers only requests addressed to loopback)."""
    reader = LineReader(db_url, clock=clock, window_hours=window_hours)
    reader.check()
    app = web.Application(middlewares=[_headers])
    loopback = host in LOOPBACK_NAMES or host.startswith("127.")
    app[READER], app[SETTINGS] = reader, Settings(db_url, poll_s, refresh_s, loopback)
    app.cleanup_ctx.append(_start_watcher)
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/", _page)
    app.router.add_get("/static/{name}", _page)
    app.router.add_get("/api/figures", _figures)
    app.router.add_get("/events", _events)
    app.router.add_get("/export/{table}.csv", _export)
    return app


def _bound_port(runner: web.AppRunner) -> int:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        for sock in getattr(server, "sockets", None) or ():
            return int(sock.getsockname()[1])
    raise DashboardError("the dashboard is not listening")


async def _start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise DashboardError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): give another --port or "
                             "stop what uses it") from None
    shown = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown}:{_bound_port(runner)}/"


class DashboardServer:
    """The dashboard served from a background thread (the demo, the tests): ``start()`` returns once it listens."""

    def __init__(self, db_url: str, *, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self._app = create_app(db_url, host=host, **options)
        self._host, self._port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="line-dashboard", daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> DashboardServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(_start_site(self._app, self._host, self._port), self._loop)
        try:
            self._runner, self.url = future.result(timeout=30)
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
            self._runner = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(db_url: str, *, host: str = "127.0.0.1", port: int = 8080, window_hours: float = 24.0,
          announce: Callable[[str], None] = print) -> int:
    """``particle-station line serve``: serve the dashboard until Ctrl-C; ``announce`` gets its URL once it listens.

    Returns the exit code (0 after Ctrl-C); raises DashboardError (one sentence) when it cannot start."""
    app = create_app(db_url, window_hours=window_hours, host=host)

    async def run() -> None:
        runner, url = await _start_site(app, host, port)
        announce(f"line dashboard at {url} (reading {redact(db_url)}); Ctrl-C stops it")
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


__all__ = ["DashboardError", "DashboardServer", "create_app", "serve"]
