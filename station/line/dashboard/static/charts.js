// Small inline-SVG charts for the line dashboard: stacked bars with a rate line, horizontal bars (a Pareto), a
// histogram and a budget gauge. Hand-written, no library: every element is built with the DOM, every text goes in
// through textContent (station names and reason codes come from the database).
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(width, height, label) {
    return el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
                       preserveAspectRatio: "xMidYMid meet", class: "svgchart" });
  }

  function empty(container, sentence) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = sentence;
    container.replaceChildren(p);
  }

  // the top of an axis with `ticks` whole-number steps of 1, 2 or 5 times a power of ten
  function niceMax(value, ticks = 4) {
    if (!(value > 0)) return ticks;
    const raw = value / ticks;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * power >= raw) return Math.max(ticks, ticks * Math.ceil(m * power));
    return ticks * 10 * power;
  }

  // bars: [{label, parts: [{value, cls}], rate (0..1 or null), title}]
  function stackedBars(container, bars, opts) {
    const W = 720, H = 300, left = 56, right = 56, top = 20, bottom = 40;
    const chart = svg(W, H, opts.label);
    const max = niceMax(Math.max(0, ...bars.map((b) => b.parts.reduce((s, p) => s + p.value, 0))));
    const plotW = W - left - right, plotH = H - top - bottom;
    const step = plotW / Math.max(1, bars.length), bw = step * 0.7;
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      chart.append(el("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
      chart.append(el("text", { x: left - 8, y: y + 6, class: "axis", "text-anchor": "end" },
                      String(Math.round((max * i) / 4))));
      chart.append(el("text", { x: W - right + 8, y: y + 6, class: "axis rate" }, `${25 * i}%`));
    }
    const points = [];
    bars.forEach((bar, i) => {
      const x = left + i * step + (step - bw) / 2;
      let y = top + plotH;
      for (const part of bar.parts) {
        const h = (plotH * part.value) / max;
        if (h > 0) {
          const rect = el("rect", { x, y: y - h, width: bw, height: h, class: part.cls });
          rect.append(el("title", {}, bar.title));
          chart.append(rect);
        }
        y -= h;
      }
      if (i % Math.ceil(bars.length / 6) === bars.length % 2) {
        chart.append(el("text", { x: x + bw / 2, y: H - bottom + 24, class: "axis", "text-anchor": "middle" },
                        bar.label));
      }
      if (bar.rate !== null && bar.rate !== undefined) points.push([x + bw / 2, top + plotH - plotH * bar.rate]);
    });
    if (points.length > 1) {
      chart.append(el("polyline", { points: points.map((p) => p.join(",")).join(" "), class: "rateline" }));
    }
    for (const [x, y] of points) chart.append(el("circle", { cx: x, cy: y, r: 5, class: "ratedot" }));
    container.replaceChildren(chart);
  }

  // rows: [{label, value, note, cls}] drawn as horizontal bars, largest first (a Pareto keeps the given order)
  function horizontalBars(container, rows, opts) {
    const rowH = 44, W = 720, left = 250, right = 200, top = 8;
    const H = top + rows.length * rowH + 8;
    const chart = svg(W, H, opts.label);
    const max = Math.max(1, ...rows.map((r) => r.value));
    rows.forEach((row, i) => {
      const y = top + i * rowH;
      const w = ((W - left - right) * row.value) / max;
      chart.append(el("text", { x: left - 12, y: y + 28, class: "barlabel", "text-anchor": "end" }, row.label));
      chart.append(el("rect", { x: left, y: y + 6, width: Math.max(2, w), height: rowH - 14, class: row.cls }));
      chart.append(el("text", { x: left + w + 10, y: y + 29, class: "barvalue" }, String(row.value)));
      if (row.note) {
        chart.append(el("text", { x: W - 6, y: y + 29, class: "barnote", "text-anchor": "end" }, row.note));
      }
    });
    container.replaceChildren(chart);
  }

  // bins: [{from, to, units, open_ended}], marks: [{at, label}]
  function histogram(container, bins, marks, opts) {
    const W = 720, H = 300, left = 56, right = 16, top = 34, bottom = 44;
    const chart = svg(W, H, opts.label);
    const max = niceMax(Math.max(0, ...bins.map((b) => b.units)));
    const plotW = W - left - right, plotH = H - top - bottom;
    const lo = bins[0].from, hi = bins[bins.length - 1].to;
    const xOf = (v) => left + (plotW * (v - lo)) / (hi - lo || 1);
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      chart.append(el("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
      chart.append(el("text", { x: left - 8, y: y + 6, class: "axis", "text-anchor": "end" },
                      String(Math.round((max * i) / 4))));
    }
    bins.forEach((bin, i) => {
      const x = xOf(bin.from), w = xOf(bin.to) - x, h = (plotH * bin.units) / max;
      const rect = el("rect", { x: x + 1, y: top + plotH - h, width: Math.max(1, w - 2), height: h, class: "bar" });
      rect.append(el("title", {}, `${fmtSeconds(bin.from)}–${bin.open_ended ? "" : fmtSeconds(bin.to)}: ${bin.units} units`));
      chart.append(rect);
      if (i % Math.ceil(bins.length / 8) === 0) {
        chart.append(el("text", { x, y: H - bottom + 24, class: "axis", "text-anchor": "middle" }, fmtSeconds(bin.from)));
      }
    });
    chart.append(el("text", { x: W - right, y: H - 6, class: "axis", "text-anchor": "end" }, "seconds per unit"));
    const last = bins[bins.length - 1];
    if (last.open_ended) {
      chart.append(el("text", { x: xOf(last.from) + (xOf(last.to) - xOf(last.from)) / 2, y: top + plotH - (plotH * last.units) / max - 8,
                                class: "axis", "text-anchor": "middle" }, "& more"));
    }
    marks.forEach((mark, i) => {
      if (mark.at === null || mark.at === undefined) return;
      const x = Math.min(W - right, Math.max(left, xOf(mark.at)));
      chart.append(el("line", { x1: x, x2: x, y1: top - 4, y2: top + plotH, class: `mark mark${i}` }));
      // the first label left of its line, the next right of it, unless that would leave the chart
      const leftSide = i === 0 ? x - left > 160 : x > W - right - 160;
      chart.append(el("text", { x: leftSide ? x - 8 : x + 8, y: top - 12, class: `marklabel mark${i}`,
                                "text-anchor": leftSide ? "end" : "start" }, mark.label));
    });
    container.replaceChildren(chart);
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "–";
    if (s >= 100) return `${Math.round(s)}`;
    if (s >= 10) return `${Math.round(s)}`;
    return `${Math.round(s * 10) / 10}`;
  }

  // one bar per minute (requests), with the even-spend line of the budget
  function minuteBars(container, minutes, perMinuteBudget, opts) {
    const W = 720, H = 170, left = 56, right = 16, top = 16, bottom = 30;
    const chart = svg(W, H, opts.label);
    const peak = Math.max(0, ...minutes.map((m) => m.requests));
    const max = niceMax(Math.max(peak, perMinuteBudget * 0.25));
    const plotW = W - left - right, plotH = H - top - bottom;
    const step = plotW / Math.max(1, minutes.length);
    for (let i = 0; i <= 2; i++) {
      const y = top + plotH - (plotH * i) / 2;
      chart.append(el("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
      chart.append(el("text", { x: left - 8, y: y + 6, class: "axis", "text-anchor": "end" },
                      String(Math.round((max * i) / 2))));
    }
    minutes.forEach((m, i) => {
      const h = (plotH * m.requests) / max;
      const cls = m.requests > perMinuteBudget ? "fail" : m.requests > perMinuteBudget * 0.8 ? "warn" : "bar";
      const rect = el("rect", { x: left + i * step + 1, y: top + plotH - h, width: Math.max(1, step - 2), height: h, class: cls });
      rect.append(el("title", {}, `${m.requests} requests`));
      chart.append(rect);
    });
    if (perMinuteBudget <= max) {
      const y = top + plotH - (plotH * perMinuteBudget) / max;
      chart.append(el("line", { x1: left, x2: W - right, y1: y, y2: y, class: "limit" }));
      chart.append(el("text", { x: W - right, y: y - top < 24 ? y + 22 : y - 6, class: "axis limittext", "text-anchor": "end" },
                      `budget pace ${perMinuteBudget}/min`));
    }
    chart.append(el("text", { x: left, y: H - 6, class: "axis" }, "30 minutes ago"));
    chart.append(el("text", { x: left + plotW / 2, y: H - 6, class: "axis", "text-anchor": "middle" },
                    "requests per minute"));
    chart.append(el("text", { x: W - right, y: H - 6, class: "axis", "text-anchor": "end" }, "now"));
    container.replaceChildren(chart);
  }

  return { stackedBars, horizontalBars, histogram, minuteBars, empty, fmtSeconds };
})();
