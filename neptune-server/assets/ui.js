// The pages' behaviour: charts (uPlot), their options in the URL, drag-zoom that fetches the
// zoomed range again, live polling, log views, galleries, table selection.
// Reads its input from <script type="application/json" id="page-data">; writes no HTML from
// data (textContent only), so nothing stored can inject markup.
(function () {
  "use strict";

  const POLL_MS = 2000;
  const state = { charts: {}, fetches: 0, polls: 0 };
  window.neptune = state;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function pageData() {
    const s = $("#page-data");
    return s ? JSON.parse(s.textContent) : null;
  }

  // ---- URL state -------------------------------------------------------------------------
  function setParam(name, value) {
    const u = new URL(location.href);
    if (value === "" || value === false || value === null || value === undefined) u.searchParams.delete(name);
    else u.searchParams.set(name, value === true ? "1" : String(value));
    history.replaceState(null, "", u.toString());
  }

  // ---- Series data -----------------------------------------------------------------------
  async function fetchSeries(pairs, x, from, to, width) {
    const body = { series: pairs.map(p => ({ id: p[0], path: p[1] })), x: x, width: Math.max(16, Math.min(8192, Math.round(width))) };
    if (from !== undefined && from !== null) body.from = from;
    if (to !== undefined && to !== null) body.to = to;
    const r = await fetch("/ui/data/downsample", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin",
    });
    if (!r.ok) throw new Error("chart data: HTTP " + r.status + " " + (await r.text()).slice(0, 300));
    state.fetches++;
    return (await r.json()).series;
  }

  function ema(ys, a) {
    if (!(a > 0)) return ys;
    const out = new Array(ys.length);
    let s = 0, n = 0;
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      if (y === null || !isFinite(y)) { out[i] = y; continue; }
      s = s * a + (1 - a) * y; n++;
      out[i] = s / (1 - Math.pow(a, n));
    }
    return out;
  }

  // ---- Charts ----------------------------------------------------------------------------
  function Charts(data, root, controls) {
    const opts = Object.assign({ filter: "", x: "step", log: false, ema: "" }, data.state || {});
    const runs = data.runs;
    const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    runs.forEach((r, i) => { r.color = r.color || colors[i % colors.length]; });
    const starts = {}; // run id -> first wall time (ms), for relative time
    const sync = uPlot.sync("neptune");

    // Controls.
    const filter = el("input", { type: "search", id: "metric-filter", placeholder: "filter metrics", value: opts.filter });
    const xsel = el("select", { id: "x-axis" });
    [["step", "step"], ["time", "wall time"], ["rel", "relative time"]].forEach(([v, t]) => {
      const o = el("option", { value: v }, t); if (v === opts.x) o.selected = true; xsel.appendChild(o);
    });
    const log = el("input", { type: "checkbox", id: "log-y" }); log.checked = !!opts.log;
    const smooth = el("input", { type: "range", id: "ema", min: "0", max: "0.99", step: "0.01", value: opts.ema || "0" });
    const reset = el("button", { type: "button", id: "reset-zoom" }, "reset zoom");
    const lab = (t, e) => { const l = el("label", {}, t + " "); l.appendChild(e); return l; };
    if (data.mode === "compare") controls.appendChild(lab("Metrics", filter));
    controls.appendChild(lab("x", xsel));
    controls.appendChild(lab("log y", log));
    controls.appendChild(lab("smoothing", smooth));
    controls.appendChild(reset);

    function visibleMetrics() {
      const f = filter.value.trim().toLowerCase();
      return data.metrics.filter(m => !f || m.toLowerCase().includes(f));
    }

    function toX(v, runId) {
      if (opts.x === "time") return v / 1000;
      if (opts.x === "rel") return (v - (starts[runId] || 0)) / 1000;
      return v;
    }

    function build(metric, series, box) {
      const smoothA = parseFloat(smooth.value) || 0;
      const tables = series.map((s, i) => {
        const xs = s.x.map(v => toX(v, runs[i].id));
        return [xs, ema(s.y, smoothA)];
      });
      const nonEmpty = tables.filter(t => t[0].length > 0);
      const joined = nonEmpty.length ? uPlot.join(tables.map(t => t[0].length ? t : [[], []])) : [[]].concat(tables.map(() => []));
      const width = Math.max(300, box.clientWidth - 8);
      const u = new uPlot({
        width: width, height: 240,
        // Hover moves together across charts; a drag zooms only the chart it is made on.
        cursor: { sync: { key: sync.key, filters: { pub: t => t !== "mousedown" && t !== "mouseup" } }, drag: { x: true, y: false } },
        scales: { x: { time: opts.x === "time" }, y: opts.log ? { distr: 3 } : {} },
        legend: { live: true },
        series: [{ label: opts.x === "step" ? "step" : (opts.x === "time" ? "time" : "seconds") }].concat(runs.map(r => ({
          label: r.id + (r.name && r.name !== r.id ? " " + r.name : ""), stroke: r.color, width: 1.25, spanGaps: true,
          points: { show: false },
        }))),
        hooks: { setSelect: [u => onZoom(metric, u)] },
      }, joined, box);
      sync.sub(u);
      return u;
    }

    async function onZoom(metric, u) {
      if (u.select.width < 3) return;
      const min = u.posToVal(u.select.left, "x"), max = u.posToVal(u.select.left + u.select.width, "x");
      const c = state.charts[metric];
      c.range = [min, max];
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      await refetch(metric);
    }

    async function refetch(metric) {
      const c = state.charts[metric];
      if (!c) return;
      let from = null, to = null;
      if (c.range && opts.x !== "rel") {
        from = opts.x === "time" ? c.range[0] * 1000 : c.range[0];
        to = opts.x === "time" ? c.range[1] * 1000 : c.range[1];
      }
      const xq = opts.x === "step" ? "step" : "time";
      const series = await fetchSeries(runs.map(r => [r.id, metric]), xq, from, to, c.box.clientWidth);
      c.fetches++;
      draw(metric, series);
      if (c.range) c.u.setScale("x", { min: c.range[0], max: c.range[1] });
    }

    function draw(metric, series) {
      const c = state.charts[metric];
      if (c.u) { sync.unsub(c.u); c.u.destroy(); }
      c.series = series;
      c.u = build(metric, series, c.box);
      c.lines = series.filter(s => s.x.length > 0).length;
      c.points = series.map(s => s.x.length);
      c.exact = series.map(s => s.exact);
      c.box.dataset.lines = String(c.lines);
    }

    async function render() {
      root.textContent = "";
      for (const k in state.charts) { const c = state.charts[k]; if (c.u) { sync.unsub(c.u); c.u.destroy(); } }
      state.charts = {};
      const metrics = visibleMetrics();
      if (!metrics.length) { root.appendChild(el("p", { class: "muted" }, "No metric matches.")); return; }
      for (const m of metrics) {
        const wrap = el("div", { class: "chart", "data-path": m });
        wrap.appendChild(el("h3", {}, m));
        const box = el("div", { class: "plot" });
        wrap.appendChild(box);
        root.appendChild(wrap);
        state.charts[m] = { box: box, u: null, range: null, fetches: 0 };
      }
      const width = root.querySelector(".plot").clientWidth || 600;
      const pairs = [];
      metrics.forEach(m => runs.forEach(r => pairs.push([r.id, m])));
      const xq = opts.x === "step" ? "step" : "time";
      const all = [];
      for (let i = 0; i < pairs.length; i += 400) all.push(...await fetchSeries(pairs.slice(i, i + 400), xq, null, null, width));
      if (opts.x === "rel") {
        all.forEach((s, i) => { const id = pairs[i][0]; if (s.x.length && (starts[id] === undefined || s.x[0] < starts[id])) starts[id] = s.x[0]; });
      }
      metrics.forEach((m, mi) => {
        state.charts[m].fetches = 1;
        draw(m, all.slice(mi * runs.length, (mi + 1) * runs.length));
      });
      state.ready = true;
      state.readyAt = state.readyAt || performance.now();
    }

    let timer = null;
    filter.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { setParam("filter", filter.value); render(); }, 200); });
    xsel.addEventListener("change", () => { opts.x = xsel.value; setParam("x", opts.x === "step" ? "" : opts.x); render(); });
    log.addEventListener("change", () => { opts.log = log.checked; setParam("log", log.checked); render(); });
    smooth.addEventListener("change", () => { setParam("ema", smooth.value === "0" ? "" : smooth.value); render(); });
    reset.addEventListener("click", () => { for (const k in state.charts) state.charts[k].range = null; render(); });

    this.render = render;
    this.refreshAll = async function () {
      for (const m in state.charts) await refetch(m);
    };
  }

  // ---- Live polling ----------------------------------------------------------------------
  function poll(data, charts) {
    const ids = data.runs.map(r => r.id).join(",");
    let last = null;
    async function tick() {
      try {
        const r = await fetch("/ui/data/status?ids=" + encodeURIComponent(ids), { credentials: "same-origin" });
        if (!r.ok) return;
        const st = await r.json();
        state.polls++;
        const active = st.some(s => s.state === "Active");
        const sig = JSON.stringify(st);
        if (data.mode === "run" && st[0]) {
          const b = $("#run-state .badge");
          if (b) {
            b.textContent = st[0].state === "Active" ? "● live" : st[0].state;
            b.classList.toggle("live", st[0].state === "Active");
            b.dataset.state = st[0].state;
          }
        }
        // The first answer may already be newer than the page: fetch the charts again then too.
        if ((last === null || sig !== last) && charts) await charts.refreshAll();
        last = sig;
        if (active) setTimeout(tick, POLL_MS);
      } catch (e) { setTimeout(tick, POLL_MS * 3); }
    }
    setTimeout(tick, POLL_MS);
    // One more check when the page is shown again.
    document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
  }

  // ---- Live rows of the runs table ---------------------------------------------------------
  // Active rows are fetched again every POLL_MS and updated in place, until none is Active.
  function liveRows() {
    const form = $("#compare-form"), table = $("#runs");
    if (!form || !table || !form.dataset.live) return;
    const paths = $all("thead th", table).map(th => th.dataset.path || null);
    async function tick() {
      const ids = $all("tbody tr[data-state=Active]", table).map(tr => tr.dataset.id);
      if (!ids.length) return;
      try {
        const r = await fetch(form.dataset.live + "&ids=" + encodeURIComponent(ids.join(",")), { credentials: "same-origin" });
        if (!r.ok) { setTimeout(tick, POLL_MS * 3); return; }
        const rows = await r.json();
        state.rowPolls = (state.rowPolls || 0) + 1;
        for (const row of rows) {
          const tr = $all("tbody tr", table).find(t => t.dataset.id === row.id);
          if (!tr) continue;
          tr.dataset.state = row.state;
          const tds = $all(":scope > td", tr);
          for (const [path, text] of row.cells) {
            const i = paths.indexOf(path);
            if (i < 0 || !tds[i] || path === "sys/id" || path === "sys/tags") continue;
            if (path === "sys/state") {
              const b = $(".badge", tds[i]);
              if (b) {
                b.textContent = text === "Active" ? "\u25cf live" : text;
                b.classList.toggle("live", text === "Active");
                b.dataset.state = text;
              }
              tds[i].dataset.state = text;
            } else if (tds[i].textContent !== text) {
              tds[i].textContent = text;
            }
          }
        }
        setTimeout(tick, POLL_MS);
      } catch (e) { setTimeout(tick, POLL_MS * 3); }
    }
    setTimeout(tick, POLL_MS);
  }

  // ---- Log views, galleries, tables ------------------------------------------------------
  function logViews() {
    $all(".log").forEach(box => {
      const pre = $(".log-lines", box), search = $(".log-search", box);
      async function load() {
        const u = "/ui/data/strings/" + encodeURIComponent(box.dataset.run) + "?path=" + encodeURIComponent(box.dataset.path) + "&tail=500&q=" + encodeURIComponent(search.value);
        const r = await fetch(u, { credentials: "same-origin" });
        if (!r.ok) { pre.textContent = "could not load: HTTP " + r.status; return; }
        const d = await r.json();
        pre.textContent = d.values.map((v, i) => d.steps[i] + "\t" + v).join("\n");
        pre.scrollTop = pre.scrollHeight;
      }
      let t = null;
      search.addEventListener("input", () => { clearTimeout(t); t = setTimeout(load, 250); });
      load();
    });
  }

  function galleries() {
    $all(".gallery").forEach(g => {
      const steps = g.dataset.steps.split(","), slider = $(".step-slider", g), img = $("img", g), label = $(".step-label", g);
      slider.addEventListener("input", () => {
        const s = steps[+slider.value];
        label.textContent = "step " + s;
        img.src = "/ui/file/" + encodeURIComponent(g.dataset.run) + "?path=" + encodeURIComponent(g.dataset.path) + "&step=" + encodeURIComponent(s);
      });
    });
  }

  function tables() {
    const all = $("#all");
    if (all) all.addEventListener("change", () => $all("#runs tbody input[type=checkbox]").forEach(c => { c.checked = all.checked; }));
    const diff = $("#only-diff"), params = $("#params");
    if (diff && params) {
      const apply = () => { params.classList.toggle("only-diff", diff.checked); };
      diff.addEventListener("change", () => { apply(); setParam("diff", diff.checked); });
      apply();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    // Colours from data attributes: the page policy allows no inline style attributes.
    $all("[data-color]").forEach(e => { e.style.background = e.dataset.color; });
    tables();
    liveRows();
    galleries();
    logViews();
    const data = pageData();
    if (!data) return;
    let charts = null;
    const root = $("#charts"), controls = $("#chart-controls");
    if (root && controls && data.metrics.length && window.uPlot) {
      charts = new Charts(data, root, controls);
      charts.render().catch(e => { root.appendChild(el("p", { class: "error" }, String(e))); });
    }
    poll(data, charts);
  });
})();
