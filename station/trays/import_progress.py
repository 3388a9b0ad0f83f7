"""The progress file of a tray import: what was sent and what the cloud answered, so an interrupted import resumes.

The file is JSON lines, appended: ``{"sending": [ids]}`` before a batch goes out, ``{"outcomes": {id: outcome},
"reply_lost": [ids]}`` when its answer came. Appending costs the same for the last batch as for the first (rewriting
the whole file after every batch made a 10,000-line import spend seconds encoding JSON). Each line is flushed at once,
so a crash or Ctrl-C loses nothing; the disk is synced at most once a second and at the end. An id sent without a
recorded answer was perhaps added by the interrupted run: if the cloud now says it is already in the product, the
import cannot say it was there before, and reports the lost reply instead. A torn last line is ignored.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import IO

from cloud_client.models import ImportOutcome

log = logging.getLogger(__name__)

SYNC_INTERVAL_S = 1.0


class ImportProgress:
    """One import's progress file (``path`` None: kept in memory only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.outcomes: dict[str, str] = {}
        """Outcome per lower-case id, as ``ImportOutcome`` values."""
        self.reply_lost: set[str] = set()
        """Ids the cloud called existing after a lost reply."""
        self.unanswered: set[str] = set()
        """Ids an earlier run sent without recording the answer."""
        self._file: IO[str] | None = None
        self._synced = time.monotonic()
        if path is not None and path.exists():
            self._load(path)

    def _load(self, path: Path) -> None:
        sent: set[str] = set()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("import progress file %s is unreadable (%s); starting the import from the beginning", path, exc)
            return
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                sent.update(str(i).lower() for i in record.get("sending", ()))
                for ident, outcome in record.get("outcomes", {}).items():
                    self.outcomes[str(ident).lower()] = ImportOutcome(str(outcome)).value
                self.reply_lost.update(str(i).lower() for i in record.get("reply_lost", ()))
            except (ValueError, AttributeError, TypeError):
                if number < len(lines):
                    log.warning("import progress file %s: line %d is damaged; its ids are sent again", path, number)
        self.unanswered = sent - set(self.outcomes)

    def _append(self, record: dict[str, object]) -> None:
        if self.path is None:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()
            if time.monotonic() - self._synced >= SYNC_INTERVAL_S:
                os.fsync(self._file.fileno())
                self._synced = time.monotonic()
        except OSError as exc:
            log.warning("cannot record the import's progress in %s (%s); an interrupted import will start over",
                        self.path, exc.strerror or exc)
            self._close()
            self.path = None

    def sending(self, batch: list[str]) -> None:
        self._append({"sending": batch})

    def answered(self, outcomes: dict[str, str], reply_lost: set[str]) -> None:
        self.outcomes.update(outcomes)
        self.reply_lost.update(reply_lost)
        self._append({"outcomes": outcomes, "reply_lost": sorted(reply_lost)})

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
            except OSError:
                pass
            self._file = None

    def finish(self, *, complete: bool) -> None:
        """Close the file; a complete import has nothing left to resume, so its file goes."""
        self._close()
        if complete and self.path is not None:
            try:
                self.path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("cannot remove the finished import's progress file %s: %s", self.path, exc)
