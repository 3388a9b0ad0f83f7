"""SIM card calls: check, import-and-activate into a product, and read a SIM's status (docs.particle.io Cloud API,
'SIM cards'; the HEAD check from the Particle Android SDK)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from cloud_client.calls import EndpointCalls, ProductRef, batched, plain_identifier, product_path
from cloud_client.errors import ForbiddenError, NotFoundError, SimOwnedElsewhereError
from cloud_client.models import Sim, SimActivation, SimCheck

log = logging.getLogger("cloud_client.sims")

DEFAULT_SIM_BATCH = 100
SIM_LIST_PAGE = 100
_HEAD_ANSWERS = {204: SimCheck.ACTIVE_FREE_PLAN, 205: SimCheck.ACTIVE, 403: SimCheck.OWNED_ELSEWHERE,
                 404: SimCheck.UNKNOWN}


def _iccid(value: object, operation: str) -> str:
    return plain_identifier(value, "ICCID", operation)


class SimCalls(EndpointCalls):
    """The ``/v1/sims`` and ``/v1/products/:p/sims`` families."""

    def check_sim(self, iccid: object) -> SimCheck:
        """Ask whether the SIM is ready to activate, already active, owned elsewhere or unknown (``HEAD``)."""
        ident = _iccid(iccid, f"check SIM {iccid}")
        reply = self._call(f"check SIM {ident}", "HEAD", f"/v1/sims/{ident}", accept=(403, 404))
        return _HEAD_ANSWERS.get(reply.status, SimCheck.READY)

    def get_sim(self, iccid: object, *, product: ProductRef | None = None) -> Sim:
        """The SIM's record (status, activation in progress …); NotFoundError when the cloud does not know it."""
        ident = _iccid(iccid, f"get SIM {iccid}")
        path = f"{product_path(product)}/sims/{ident}" if product is not None else f"/v1/sims/{ident}"
        where = f" of product {product}" if product is not None else ""
        return Sim.from_json(self._call_object(f"get SIM {ident}{where}", "GET", path))

    def iter_product_sims(self, product: ProductRef, *, per_page: int = SIM_LIST_PAGE) -> Iterator[Sim]:
        """Every SIM of the product, page by page (``GET /v1/products/:p/sims``, ``meta.total_pages``)."""
        page, total_pages = 1, 1
        while page <= total_pages:
            sims, total_pages = self._sim_page(product, page, per_page)
            yield from sims
            page += 1

    def sim_states(self, product: ProductRef, iccids: Iterable[object]) -> dict[str, SimActivation]:
        """The activation state of many SIMs of the product at once, read from the product's SIM list.

        Never costs more requests than reading each SIM on its own: as soon as the list has more pages left than
        ICCIDs still unseen, the rest are read one by one. A SIM missing from a fully read list is NOT_FOUND.
        """
        wanted = list(dict.fromkeys(_iccid(value, f"read SIMs of product {product}") for value in iccids))
        report: dict[str, SimActivation] = {}
        listed_all = False
        if len(wanted) > 1:
            page, total_pages = 1, 1
            while page <= total_pages and len(report) < len(wanted):
                sims, total_pages = self._sim_page(product, page, SIM_LIST_PAGE)
                report.update({sim.iccid: _activation(sim) for sim in sims if sim.iccid in wanted})
                page += 1
                if total_pages - page + 1 > len(wanted) - len(report):
                    break
            listed_all = page > total_pages
        for ident in wanted:
            if ident in report:
                continue
            if listed_all:
                log.warning("SIM %s: not in product %s's SIM list after its import", ident, product)
                report[ident] = SimActivation.NOT_FOUND
            else:
                report[ident] = self._state_after_import(product, ident)
        return report

    def sims_in_product(self, product: ProductRef, iccids: Iterable[object]) -> dict[str, Sim]:
        """The SIMs of ``iccids`` that are in the product now (active or activating), read for many at once.

        Reads the product's SIM list page by page while it has no more pages left than ICCIDs still unseen, then
        asks for the rest one by one (``GET /v1/products/:p/sims/:iccid``); an ICCID absent from the result is not in
        the product (unknown, owned elsewhere, or not imported). Never costs more requests than one per ICCID + 1.
        """
        wanted = list(dict.fromkeys(_iccid(value, f"read SIMs of product {product}") for value in iccids))
        found: dict[str, Sim] = {}
        page, total_pages = 1, 1
        while wanted and page <= total_pages and total_pages - page + 1 <= len(wanted) - len(found):
            sims, total_pages = self._sim_page(product, page, SIM_LIST_PAGE)
            found.update({sim.iccid: sim for sim in sims if sim.iccid in wanted})
            page += 1
            if len(found) == len(wanted):
                return found
        if page > total_pages:
            return found
        for ident in wanted:
            if ident in found:
                continue
            try:
                found[ident] = self.get_sim(ident, product=product)
            except (NotFoundError, ForbiddenError):
                continue
        return found

    def _sim_page(self, product: ProductRef, page: int, per_page: int) -> tuple[list[Sim], int]:
        reply = self._call_object(f"list SIMs of product {product} (page {page})", "GET",
                                  f"{product_path(product)}/sims", params={"per_page": per_page, "page": page})
        rows = reply.get("sims")
        sims = [Sim.from_json(row) for row in (rows if isinstance(rows, list) else []) if isinstance(row, dict)]
        meta = reply.get("meta")
        pages = meta.get("total_pages") if isinstance(meta, dict) else None
        return sims, pages if isinstance(pages, int) else page

    def import_sims(
        self, product: ProductRef, iccids: Iterable[object], *, country: str | None = None,
        batch_size: int = DEFAULT_SIM_BATCH,
    ) -> int:
        """Import the SIMs into the product and start their activation; returns how many ICCIDs were sent.

        The API only queues the work (``200 {"ok":true}``); read each SIM's status afterwards.
        """
        idents = list(dict.fromkeys(_iccid(value, f"import SIMs into product {product}") for value in iccids))
        for start, batch in zip(range(0, len(idents), batch_size), batched(idents, batch_size), strict=True):
            what = f"import SIMs {start + 1}-{start + len(batch)} of {len(idents)} into product {product}"
            body: dict[str, object] = {"sims": batch}
            if country is not None:
                body["country"] = country
            self._call_object(what, "POST", f"{product_path(product)}/sims", json=body)
        return len(idents)

    def activate_sims(
        self, product: ProductRef, iccids: Iterable[object], *, country: str | None = None
    ) -> dict[str, SimActivation]:
        """Check each SIM, import the ones not yet active, and report each one's state (per ICCID).

        Active SIMs are not imported again; SIMs owned by another account are reported, not imported. Re-running
        it is safe and reports the same or a later state.
        """
        checks = {
            ident: self.check_sim(ident)
            for ident in dict.fromkeys(_iccid(value, f"activate SIMs in product {product}") for value in iccids)
        }
        report: dict[str, SimActivation] = {}
        to_import: list[str] = []
        for ident, check in checks.items():
            if check.is_active:
                report[ident] = SimActivation.ACTIVE
            elif check is SimCheck.OWNED_ELSEWHERE:
                report[ident] = SimActivation.OWNED_ELSEWHERE
            else:
                to_import.append(ident)
        if to_import:
            self.import_sims(product, to_import, country=country)
            report.update(self.sim_states(product, to_import))
        return report

    def activate_sim(self, product: ProductRef, iccid: object, *, country: str | None = None) -> SimActivation:
        """``activate_sims`` for one SIM; a SIM owned by another account raises SimOwnedElsewhereError."""
        ident = _iccid(iccid, f"activate SIM {iccid} in product {product}")
        state = self.activate_sims(product, [ident], country=country)[ident]
        if state is SimActivation.OWNED_ELSEWHERE:
            what = f"activate SIM {ident} in product {product}"
            raise SimOwnedElsewhereError(
                f"{what}: the SIM belongs to another Particle account (HTTP 403); ask its owner to release it, or "
                "fit another SIM", operation=what, status=403,
            )
        return state

    def _state_after_import(self, product: ProductRef, iccid: str) -> SimActivation:
        try:
            sim = self.get_sim(iccid, product=product)
        except NotFoundError:
            log.warning("SIM %s: unknown to the cloud after its import into product %s", iccid, product)
            return SimActivation.NOT_FOUND
        return _activation(sim)


def _activation(sim: Sim) -> SimActivation:
    return SimActivation.ACTIVE if sim.is_active and not sim.is_pending else SimActivation.PENDING
