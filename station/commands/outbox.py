"""``particle-station outbox list|retry``: the cloud work a station queued (the cloud was unreachable or failing),
shown, and pushed to the cloud now.

The handlers import the journal, the cloud client and the outbox worker when they run: building the parser stays
cheap. ``retry`` runs the same operations, in the same order per unit, as the line's outbox worker; they are
idempotent, so a station running at the same time does no harm.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.errors import StationError

if TYPE_CHECKING:
    from station.records.journal import Journal
    from station.records.outbox_table import OutboxItem


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "outbox", help="show (list) or push (retry) the cloud work queued while the cloud was unreachable",
        description="The station queues a unit's cloud work (add to product, SIM, claim, name and groups, online "
        "check) when the cloud cannot be reached, and retries it by itself while it runs. 'list' shows that queue; "
        "'retry' sends it now.",
    )
    actions = parser.add_subparsers(dest="outbox_action", metavar="ACTION", required=True)
    for name, text in (("list", "the queued cloud work, oldest first"),
                       ("retry", "send the queued cloud work now (given-up operations too)")):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument("--profile", type=Path, required=True, metavar="P",
                            help="the station profile; its log folder has the journal")
        action.add_argument("--json", action="store_true", help="print JSON on stdout")
        if name == "retry":
            action.add_argument("--cloud-url", help="use this API base URL instead of the profile's")
        action.set_defaults(handler=run_outbox_list if name == "list" else run_outbox_retry)


def _journal(args: argparse.Namespace) -> tuple[Any, Journal]:
    from station.config.profile_loader import load_profile
    from station.records.journal import JOURNAL_NAME, Journal

    profile = load_profile(args.profile)
    path = Path(profile.log_folder) / JOURNAL_NAME
    if not path.is_file():  # opening a missing journal would create an empty one
        raise StationError(f"journal {path} does not exist; check station.log_folder in {args.profile}")
    return profile, Journal(path)


def _describe(journal: Journal, items: list[OutboxItem]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        unit = journal.unit_table.get(item.unit_id) if item.unit_id is not None else None
        rows.append({
            "id": item.id, "lot": unit.lot if unit else None, "unit": unit.unit_key if unit else None,
            "operation": item.operation, "state": "given up" if item.state == "failed" else "waiting",
            "attempts": item.attempts, "next_attempt_at": item.next_attempt_at if item.state == "pending" else None,
            "last_error": item.last_error,
        })
    return rows


def _print(rows: list[dict[str, Any]], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        print(json.dumps({**(extra or {}), "operations": rows}, indent=2))
        return
    for row in rows:
        when = ""
        if row["next_attempt_at"]:
            when = f", next try {datetime.datetime.fromtimestamp(row['next_attempt_at']):%Y-%m-%d %H:%M:%S}"
        error = f": {row['last_error']}" if row["last_error"] else ""
        print(f"{row['id']:>6} {row['lot'] or '-'} {row['unit'] or '-'} {row['operation']} {row['state']}, "
              f"{row['attempts']} attempt(s){when}{error}")


def run_outbox_list(args: argparse.Namespace) -> int:
    _, journal = _journal(args)
    with journal:
        rows = _describe(journal, journal.outbox_table.open_items())
    _print(rows, args.json)
    if not args.json:
        print(f"{len(rows)} cloud operation(s) waiting" if rows else "no cloud work waiting")
    return 0


def run_outbox_retry(args: argparse.Namespace) -> int:
    from station.config.cloud import cloud_for
    from station.workflow.cloud_reach import CloudReach
    from station.workflow.events import EventBus, EventKind, UnitEvent
    from station.workflow.outbox import OutboxWorker

    url = args.cloud_url  # checked by its argparse type (station/commands/arguments.py)
    profile, journal = _journal(args)
    with journal:
        waiting = journal.outbox_table.open_items()
        if not waiting:
            _print([], args.json, {"done": 0})
            if not args.json:
                print("no cloud work waiting")
            return 0
        with cloud_for(profile, base_url=url) as cloud:
            reach = CloudReach(cloud.base_url)
            if not reach.probe():
                raise StationError(f"cloud unreachable ({reach.reason}): {len(waiting)} operation(s) still waiting, "
                                   "nothing was sent; check the network and run 'outbox retry' again")
            journal.outbox_table.make_due_now()
            events = EventBus()

            def show(event: UnitEvent) -> None:
                if event.kind is EventKind.UNIT_UPDATED and not args.json:
                    print(f"{event.status:<6} {event.unit_key}: {event.message}")

            events.subscribe(show)
            worker = OutboxWorker(journal.outbox_table, journal.unit_table, journal.step_table, cloud,
                                  profile.product_id, events, reachable=reach.reachable)
            done = worker.run_once()
        rows = _describe(journal, journal.outbox_table.open_items())
    _print(rows, args.json, {"done": done})
    if not args.json:
        print(f"{done} cloud operation(s) done, {len(rows)} still waiting")
    return 0 if not rows else 1
