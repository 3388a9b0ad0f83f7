// The line dashboard page: reads the figures from /api/figures, then follows /events (server-sent events) and redraws
// every panel when the line changes. Text from the database only ever goes in through textContent.
"use strict";

(() => {
  const YIELD_GOOD = 0.95, YIELD_FAIR = 0.85;  // colour bands of a yield (display only)
  const CPK_BAR = 1.33, CPK_POOR = 1.0;         // Cpk >= 1.33 is the usual bar (ISO 22514-2)
  const STALE_S = 20;                          // no news for this long: say the figures may be old
  let figures = null;
  let receivedAt = 0;

  const $ = (id) => document.getElementById(id);

  function node(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }

  function pct(x) {  // "100 %", not "100.0 %": the full mark reads at a glance and fits a tile
    if (x === null || x === undefined) return "–";
    return x >= 1 ? "100 %" : `${(100 * x).toFixed(1)} %`;
  }
  function yieldClass(x) {
    if (x === null || x === undefined) return "none";
    return x >= YIELD_GOOD ? "good" : x >= YIELD_FAIR ? "fair" : "bad";
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }
  function clock(epoch) {
    return new Date(epoch * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  function serverNow() {  // the server's clock, advanced by the time since the figures arrived
    return figures ? figures.generated_at + (Date.now() - receivedAt) / 1000 : Date.now() / 1000;
  }

  function kpi(id, value, sub, cls) {
    const box = $(id);
    box.querySelector(".value").textContent = value;
    const subline = box.querySelector(".sub");
    if (subline) subline.textContent = sub || "";
    box.classList.remove("good", "fair", "bad", "none");
    if (cls) box.classList.add(cls);
  }

  function table(headers, rows) {
    const t = node("table");
    const head = node("tr");
    headers.forEach((h) => head.append(node("th", h.cls, h.text)));
    const thead = node("thead");
    thead.append(head);
    t.append(thead);
    const body = node("tbody");
    rows.forEach((cells) => {
      const tr = node("tr");
      cells.forEach((c) => tr.append(c instanceof Node ? c : node("td", null, c)));
      body.append(tr);
    });
    t.append(body);
    return t;
  }
  function td(text, cls) { return node("td", cls, text); }

  function slotClass(state) {
    const s = String(state || "").toLowerCase();
    if (s === "running" || s === "in progress" || s === "busy") return "running";
    if (s === "pass") return "pass";
    if (s === "fail" || s === "error") return "fail";
    if (s.includes("pending") || s.includes("wait") || s.includes("not confirmed")) return "waiting";
    return "idle";
  }

  function renderStations(stations) {
    const box = $("stations");
    if (!stations.length) { Charts.empty(box, "No station has reported to the line database yet."); return; }
    box.replaceChildren(...stations.map((st) => {
      const card = node("article", `station ${st.online ? "online" : "offline"}`);
      card.dataset.station = st.station;
      const title = node("div", "stationhead");
      const seen = node("span", "muted");
      if (!st.online) {
        seen.textContent = "offline · last seen ";
        const ago = node("span", "ago");
        if (st.last_seen) ago.dataset.at = st.last_seen; else ago.textContent = "never";
        seen.append(ago);
      } else {
        seen.textContent = `v${st.software_version || "?"}`;
      }
      title.append(node("span", "dot"), node("h3", null, st.station), seen);
      const nums = node("div", "stationnums");
      for (const [label, value, cls] of [["units / h", st.units_last_hour, ""], ["yield", pct(st.yield), yieldClass(st.yield)],
                                         ["FPY", pct(st.fpy), yieldClass(st.fpy)], ["failed", st.failed, st.failed ? "bad" : ""]]) {
        const n = node("div", `num ${cls}`);
        n.append(node("span", "v", value), node("span", "l", label));
        nums.append(n);
      }
      const slots = node("div", "slots");
      const sorted = [...st.slots].sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0));
      if (!sorted.length) slots.append(node("p", "muted", "no slots reported"));
      for (const slot of sorted) {
        const tile = node("div", `slot ${slotClass(slot.state)}`);
        tile.dataset.slot = slot.slot;
        tile.append(node("span", "slotno", `Slot ${slot.slot ?? "?"}`), node("span", "slotstate", slot.state || "idle"));
        const idle = slotClass(slot.state) === "idle";
        // an idle slot names the unit it last ran and how that ended (PASS, FAIL ...)
        tile.append(node("span", "slotunit", idle && slot.unit_key ? `last: ${slot.unit_key}` : slot.unit_key || ""));
        tile.append(node("span", `slotstep ${idle ? slotClass(slot.step) : ""}`, slot.step || ""));
        const since = node("span", "slotsince");
        if (slot.since) since.dataset.since = slot.since;
        tile.append(since);
        slots.append(tile);
      }
      const repl = node("div", "stationfoot muted");
      repl.textContent = `backlog ${st.backlog ?? "–"} · lag ${st.lag_seconds === null || st.lag_seconds === undefined ? "–" : duration(st.lag_seconds)}` +
        ` · ${st.refused_scans} refused scan${st.refused_scans === 1 ? "" : "s"} · ${st.api_used} API requests / 5 min`;
      card.append(title, nums, slots, repl);
      return card;
    }));
    tick();
  }

  function renderHours(hours) {
    const box = $("hours");
    if (!hours.some((h) => h.tested)) { Charts.empty(box, "No unit finished in the last 12 hours."); return; }
    Charts.stackedBars(box, hours.map((h) => ({
      label: clock(h.hour), rate: h.fpy,
      title: `${clock(h.hour)}: ${h.tested} tested, ${h.passed} passed (yield ${pct(h.yield)}, first-pass ${pct(h.fpy)})`,
      parts: [{ value: h.passed, cls: "pass" }, { value: h.failed, cls: "fail" }],
    })), { label: "units per hour, passed and failed, with first-pass yield" });
  }

  function renderPareto(pareto) {
    const box = $("pareto");
    if (!pareto.length) { Charts.empty(box, "No failures in this window."); return; }
    Charts.horizontalBars(box, pareto.slice(0, 8).map((p) => ({
      label: p.code.replaceAll("_", " "), value: p.units, cls: "fail", note: `${Math.round(100 * p.cumulative)} % cum.`,
    })), { label: "failures by reason code, most frequent first" });
  }

  function renderCycle(cycle) {
    const box = $("cycle");
    if (!cycle.count) { Charts.empty(box, "No finished cycle in this window."); return; }
    Charts.histogram(box, cycle.bins, [{ at: cycle.median, label: `median ${Charts.fmtSeconds(cycle.median)} s` },
                                       { at: cycle.p90, label: `p90 ${Charts.fmtSeconds(cycle.p90)} s` }],
                     { label: "cycle time distribution" });
  }

  function renderApi(api) {
    const box = $("api");
    const share = node("p", `apiline ${api.share >= 0.8 ? "bad" : api.share >= 0.5 ? "fair" : "good"}`);
    share.append(node("strong", null, `${api.used.toLocaleString()} of ${api.budget.toLocaleString()}`),
                 node("span", null, ` requests in the last 5 minutes (${(100 * api.share).toFixed(1)} %)`));
    const gauge = node("div", "gauge");
    const fill = node("div", "fill");
    fill.style.width = `${Math.min(100, 100 * api.share)}%`;
    gauge.append(fill);
    const chart = node("div");
    Charts.minuteBars(chart, api.per_minute, Math.round(api.budget / (api.window_s / 60)),
                      { label: "API requests per minute, whole line" });
    box.replaceChildren(share, gauge, chart);
    if (!api.per_minute.some((m) => m.requests)) {
      box.append(node("p", "muted", "No station reported Particle API requests in the last 30 minutes."));
    }
  }

  function renderLots(lots) {
    const box = $("lots");
    if (!lots.length) { Charts.empty(box, "No lot worked on in this window."); return; }
    box.replaceChildren(table(
      [{ text: "Lot" }, { text: "Stations" }, { text: "Units", cls: "n" }, { text: "Tested", cls: "n" },
       { text: "Yield", cls: "n" }, { text: "FPY", cls: "n" }, { text: "Running", cls: "n" }, { text: "" }],
      lots.map((l) => {
        const link = node("a", null, "CSV");
        link.href = `/export/units.csv?lot=${encodeURIComponent(l.lot)}`;
        const cell = node("td");
        cell.append(link);
        return [td(l.lot, "strong"), td(l.stations.join(", ")), td(l.units, "n"), td(l.tested, "n"),
                td(pct(l.yield), `n ${yieldClass(l.yield)}`), td(pct(l.fpy), `n ${yieldClass(l.fpy)}`),
                td(l.running, "n"), cell];
      })));
  }

  function renderCpk(rows) {
    const box = $("cpk");
    if (!rows.length) { Charts.empty(box, "No test measurements recorded in this window."); return; }
    const num = (x, digits) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
    box.replaceChildren(table(
      [{ text: "Measurement" }, { text: "n", cls: "n" }, { text: "Mean", cls: "n" }, { text: "Limits", cls: "n" },
       { text: "Cpk", cls: "n" }],
      rows.map((r) => [td(r.name + (r.units ? ` (${r.units})` : ""), "strong"), td(r.n, "n"), td(num(r.mean, 3), "n"),
                       td(`${num(r.lower, 3)} … ${num(r.upper, 3)}`, "n"),
                       // too few values: the server sends no Cpk, only its note ("n < 30")
                       td(r.cpk_note || num(r.cpk, 2), `n big ${r.cpk === null ? "none" : r.cpk >= CPK_BAR ? "good" : r.cpk >= CPK_POOR ? "fair" : "bad"}`)])));
  }

  function renderReplication(stations) {
    const box = $("replication");
    if (!stations.length) { Charts.empty(box, "No station replicates yet."); return; }
    box.replaceChildren(table(
      [{ text: "Station" }, { text: "Backlog", cls: "n" }, { text: "Lag", cls: "n" }, { text: "Last seen", cls: "n" }],
      stations.map((s) => [td(s.station, "strong"),
                           td(s.backlog ?? "–", `n ${s.backlog > 100 ? "bad" : s.backlog > 0 ? "fair" : "good"}`),
                           td(s.lag_seconds === null || s.lag_seconds === undefined ? "–" : duration(s.lag_seconds),
                              `n ${s.lag_seconds > 60 ? "bad" : s.lag_seconds > 5 ? "fair" : "good"}`),
                           ageCell(s)])));
  }

  function ageCell(s) {
    const cell = td(s.last_seen ? "" : "never", `n ${s.online ? "" : "bad"}`);
    if (s.last_seen) {
      const ago = node("span", "ago");
      ago.dataset.at = s.last_seen;
      cell.append(ago);
    }
    return cell;
  }

  function renderStationYield(stations) {
    const box = $("station-yield");
    if (!stations.length) { Charts.empty(box, "No station yet."); return; }
    box.replaceChildren(table(
      [{ text: "Station" }, { text: "Tested", cls: "n" }, { text: "Passed", cls: "n" }, { text: "Failed", cls: "n" },
       { text: "Yield", cls: "n" }, { text: "FPY", cls: "n" }],
      stations.map((s) => [td(s.station, "strong"), td(s.tested, "n"), td(s.passed, "n"), td(s.failed, "n"),
                           td(pct(s.yield), `n big ${yieldClass(s.yield)}`), td(pct(s.fpy), `n big ${yieldClass(s.fpy)}`)])));
  }

  function render(data) {
    figures = data;
    receivedAt = Date.now();
    const problem = $("problem");
    problem.hidden = !data.error;
    problem.textContent = data.error || "";
    if (!data.headline) return;  // the database was never reached: only the problem shows
    const h = data.headline;
    $("window").textContent = `last ${data.window_hours} h`;
    kpi("kpi-rate", String(h.units_last_hour), "");
    kpi("kpi-yield", pct(h.yield), `${h.passed} of ${h.tested} tested`, yieldClass(h.yield));
    kpi("kpi-fpy", pct(h.fpy), "passed on the first attempt", yieldClass(h.fpy));
    kpi("kpi-failed", String(h.failed), h.refused_scans ? `+ ${h.refused_scans} refused scans` : "", h.failed ? "bad" : "good");
    kpi("kpi-running", String(h.running), `${h.stations_online} of ${h.stations} stations online`,
        h.stations_online < h.stations ? "fair" : "");
    kpi("kpi-backlog", String(h.backlog), `lag up to ${duration(h.max_lag_seconds)}`,
        h.max_lag_seconds > 60 ? "bad" : h.backlog > 0 ? "fair" : "good");
    kpi("kpi-api", `${(100 * data.api.share).toFixed(1)} %`, `${data.api.used} of ${data.api.budget} / 5 min`,
        data.api.share >= 0.8 ? "bad" : data.api.share >= 0.5 ? "fair" : "good");
    renderStations(data.stations);
    renderHours(data.hours);
    renderPareto(data.pareto);
    renderCycle(data.cycle);
    renderApi(data.api);
    renderLots(data.lots);
    renderCpk(data.capability);
    renderReplication(data.stations);
    renderStationYield(data.stations);
    tick();
  }

  function tick() {  // once a second: the slots' elapsed times and how fresh the figures are
    const now = serverNow();
    document.querySelectorAll(".slotsince[data-since]").forEach((n) => {
      n.textContent = duration(now - Number(n.dataset.since));
    });
    document.querySelectorAll(".ago[data-at]").forEach((n) => {
      n.textContent = `${duration(now - Number(n.dataset.at))} ago`;
    });
    if (figures) {
      const age = (Date.now() - receivedAt) / 1000;
      $("updated").textContent = `figures read at ${new Date(figures.generated_at * 1000).toLocaleTimeString()}`;
      $("live").classList.toggle("stale", age > STALE_S && !source);
    }
  }

  let source = null;
  function follow() {
    source = new EventSource("/events");
    source.addEventListener("figures", (event) => {
      render(JSON.parse(event.data));
      $("live").textContent = "live"; $("live").className = "live on";  // figures arriving: live, whatever "open" said
    });
    source.addEventListener("open", () => { $("live").textContent = "live"; $("live").className = "live on"; });
    source.addEventListener("error", () => { $("live").textContent = "reconnecting…"; $("live").className = "live waiting"; });
  }

  fetch("/api/figures").then((r) => r.json()).then(render).catch(() => {
    $("problem").hidden = false;
    $("problem").textContent = "The dashboard server does not answer; the page keeps trying.";
  }).finally(follow);
  setInterval(tick, 1000);
})();
