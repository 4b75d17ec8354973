// twinnet dashboard: reads the daemon's HTTP API (/api/<method>), redraws
// on every "epoch" event from /events. Everything it loads comes from the
// serving twinnetd; no other host is contacted.
"use strict";

const REGIONS = ["Africa", "Americas", "Asia", "Europe", "Oceania"];
const REGION_ZH = { Africa: "非洲", Americas: "美洲", Asia: "亚洲", Europe: "欧洲", Oceania: "大洋洲" };
const ISO = window.TN_ISO_NUMERIC || {};
const COUNTRY_ZH = window.TN_COUNTRY_ZH || {};

// ---- access: a token given as #token=... is kept for this tab ----
(function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("twinnet-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();
function headers() {
  const t = sessionStorage.getItem("twinnet-token");
  return t ? { Authorization: "Bearer " + t } : {};
}

async function api(method, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x)); else q.append(k, v);
  }
  const r = await fetch("/api/" + method + (q.toString() ? "?" + q : ""), { headers: headers(), cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(method + ": " + (body.error ? body.error.code + ": " + body.error.message : r.status));
  return body;
}

// ---- state ----
let world = null;          // GeoJSON features of the map
let nodes = new Map();     // id -> node (names in Chinese, countries)
let lastEpoch = -1;
let homeCountry = "";      // the home's country (not a partner country)
let loading = null;

const fmtPct = d3.format(".0%");
const el = (id) => document.getElementById(id);

function zhOf(id) {
  const n = nodes.get(id);
  if (n && n.name_zh) return n.name_zh;
  return COUNTRY_ZH[id] || "";
}

// ---- the data of one epoch ----
async function loadAll() {
  const [metrics, byCountry, bri, byUnit, gaps, nodeList] = await Promise.all([
    api("metrics.get"),
    api("query.coverage", { by: "country" }),
    api("query.coverage", { by: "tag", tag: "bri" }),
    api("query.coverage", { by: "unit" }),
    api("query.gaps", { limit: 12 }),
    api("node.list", { limit: 10000 }),
  ]);
  nodes = new Map(nodeList.items.map((n) => [n.id, n]));
  // Each unit's own pairs, for the units x regions heat map.
  const unitPairs = await Promise.all(byUnit.items.map((u) =>
    u.pairs > 0 ? api("pair.list", { unit: u.id, limit: 10000 }) : Promise.resolve({ items: [] })));
  return { metrics, byCountry, bri, byUnit, gaps, unitPairs };
}

async function refresh() {
  if (loading) { loading.again = true; return; }
  loading = { again: false };
  try {
    const d = await loadAll();
    render(d);
    await renderPartners();
    lastEpoch = d.metrics.epoch;
    document.body.dataset.epoch = String(lastEpoch);
    document.body.dataset.state = "ready";
  } catch (e) {
    console.error(e);
    document.body.dataset.state = "error";
    el("map-note").textContent = String(e.message || e);
  }
  const again = loading.again;
  loading = null;
  if (again) refresh();
}

// ---- drawing ----
function render(d) {
  const g = d.metrics.graph, cov = d.metrics.coverage;
  const home = g.home;
  const homeNode = nodes.get(home.id);
  homeCountry = homeNode ? (homeNode.country || homeNode.id) : "";
  el("home-name").textContent = homeNode ? homeNode.name : home.id;
  el("home-name-zh").textContent = homeNode && homeNode.name_zh ? homeNode.name_zh : "";
  el("epoch").textContent = d.metrics.epoch;
  el("covered-count").textContent = cov.total.covered + "/" + cov.total.countries;
  el("covered-ratio").textContent = fmtPct(cov.total.covered / Math.max(1, cov.total.countries)) + " of all countries";
  el("home-pairs").textContent = home.pairs;
  el("pair-kinds").textContent = "with partners in " + home.countries + " countries";
  const b = d.bri.items[0] || { covered: 0, countries: 0, ratio: 0 };
  el("bri-count").textContent = b.covered + "/" + b.countries;
  el("bri-ratio").textContent = fmtPct(b.ratio || 0) + " of Belt and Road partners";
  const idle = d.byUnit.items.filter((u) => u.pairs === 0);
  el("units-count").textContent = home.units;
  el("idle-count").textContent = idle.length + " idle: " + idle.map((u) => zhOf(u.id) || u.name).join("、");
  el("graph-size").textContent = g.pairs.total;
  el("graph-sub").textContent = "pairs among " + (g.nodes.province + g.nodes.city) + " provinces and cities";
  if (home.reference) el("reference").textContent = home.reference.source + " reports " + home.reference.pairs +
    " pairs in " + home.reference.countries + " countries (" + home.reference.as_of + ")";

  drawMap(d.byCountry, homeCountry);
  drawRegions(cov, d.bri);
  drawHeat(d.byUnit, d.unitPairs, homeCountry);
  drawTimeline(d.metrics.timeline || [], d.metrics.undated || 0);
  drawGaps(d.gaps);
}

function drawMap(byCountry, homeCountry) {
  const svg = d3.select("#map");
  const W = 1000, H = 470;
  svg.attr("viewBox", `0 0 ${W} ${H}`);
  const projection = d3.geoNaturalEarth1().fitExtent([[4, 4], [W - 4, H - 4]], { type: "Sphere" });
  const path = d3.geoPath(projection);
  const covered = new Map(byCountry.items.map((c) => [c.id, c]));
  const max = d3.max(byCountry.items, (c) => c.pairs) || 1;
  const color = d3.scaleSequentialSqrt([0, max], d3.interpolateYlGnBu).clamp(true);
  const shade = (p) => color(0.15 * max + 0.85 * p);   // the palest shade still reads as covered

  if (svg.select("path.sphere").empty()) {
    svg.append("path").attr("class", "sphere").attr("d", path({ type: "Sphere" }));
    svg.append("g").attr("class", "countries");
    svg.append("g").attr("class", "dots");
  }
  const tip = el("tooltip");
  const shapes = svg.select("g.countries").selectAll("path.country")
    .data(world, (f) => f.properties.iso2 || f.properties.name)
    .join("path")
    .attr("class", "country")
    .attr("d", path)
    .attr("data-name", (f) => f.properties.name);
  shapes.each(function (f) {
    const s = d3.select(this), iso2 = f.properties.iso2, c = iso2 && covered.get(iso2);
    if (iso2) s.attr("data-iso2", iso2); else s.attr("data-iso2", null);
    s.classed("home", iso2 === homeCountry);
    s.attr("data-pairs", c ? c.pairs : null);
    s.style("fill", c ? shade(c.pairs) : null);
  });
  shapes.on("mousemove", function (ev, f) {
    const iso2 = f.properties.iso2, c = iso2 && covered.get(iso2);
    const zh = iso2 ? (COUNTRY_ZH[iso2] || "") : "";
    tip.hidden = false;
    tip.innerHTML = "";
    const b = document.createElement("b");
    b.textContent = (c ? c.name : f.properties.name) + (zh ? " · " + zh : "");
    tip.appendChild(b);
    tip.appendChild(document.createElement("br"));
    tip.appendChild(document.createTextNode(c ? c.pairs + " pairs · " + c.units + " units · " + c.region
      : iso2 === homeCountry ? "home country" : "no partner yet"));
    const box = el("map").getBoundingClientRect();
    tip.style.left = (ev.clientX - box.left + 12) + "px";
    tip.style.top = (ev.clientY - box.top + 12) + "px";
  }).on("mouseleave", () => { tip.hidden = true; });

  // Covered countries too small to see get a dot at their centroid.
  const small = world.filter((f) => covered.has(f.properties.iso2) && path.area(f) < 30);
  svg.select("g.dots").selectAll("circle.dot")
    .data(small, (f) => f.properties.iso2)
    .join("circle")
    .attr("class", "dot")
    .attr("r", 4)
    .attr("cx", (f) => path.centroid(f)[0])
    .attr("cy", (f) => path.centroid(f)[1])
    .style("fill", (f) => shade(covered.get(f.properties.iso2).pairs));
  const onMap = new Set(world.map((f) => f.properties.iso2));
  const missing = byCountry.items.filter((c) => !onMap.has(c.id));
  el("map-note").textContent = missing.length
    ? "Also covered, not on this map: " + missing.map((c) => c.name + " (" + c.pairs + ")").join(", ") : "";
  drawLegend(max, shade);
}

function drawLegend(max, shade) {
  const svg = d3.select("#legend");
  svg.selectAll("*").remove();
  const w = 200, x = d3.scaleLinear([1, max], [10, 10 + w]);
  const steps = d3.range(1, max + 1);
  svg.selectAll("rect").data(steps).join("rect")
    .attr("x", (p) => x(p) - w / (2 * Math.max(1, max - 1))).attr("y", 4)
    .attr("width", w / Math.max(1, max - 1) + 1).attr("height", 10).style("fill", shade);
  svg.append("g").attr("transform", "translate(0,16)").attr("class", "axis")
    .call(d3.axisBottom(x).ticks(Math.min(max, 6)).tickFormat(d3.format("d")).tickSize(3));
  svg.append("text").attr("x", 10 + w + 8).attr("y", 14).style("font-size", "11px").style("fill", "#6b7785").text("pairs");
  svg.attr("width", w + 60);
}

function drawRegions(cov, bri) {
  const rows = REGIONS.map((r) => cov.items.find((i) => i.group === r) || { group: r, countries: 0, covered: 0, ratio: 0, pairs: 0 });
  const b = bri.items[0];
  if (b) rows.push({ ...b, group: "Belt and Road" });
  const svg = d3.select("#regions");
  const W = 460, rowH = 30, H = rows.length * rowH + 24;
  svg.attr("viewBox", `0 0 ${W} ${H}`);
  const x = d3.scaleLinear([0, 1], [150, W - 60]);
  const g = svg.selectAll("g.row").data(rows, (r) => r.group).join((enter) => {
    const e = enter.append("g").attr("class", "row");
    e.append("text").attr("class", "lab").attr("x", 0).attr("y", 15);
    e.append("rect").attr("class", "track").attr("x", x(0)).attr("y", 5).attr("height", 14).attr("rx", 3).style("fill", "#eef2f6");
    e.append("rect").attr("class", "fill").attr("x", x(0)).attr("y", 5).attr("height", 14).attr("rx", 3);
    e.append("text").attr("class", "val").attr("y", 16);
    return e;
  });
  g.attr("transform", (r, i) => `translate(0,${i * rowH + (r.group === "Belt and Road" ? 10 : 0)})`);
  g.select("text.lab").text((r) => r.group + " " + (REGION_ZH[r.group] || (r.group === "Belt and Road" ? "一带一路" : "")));
  g.select("rect.track").attr("width", x(1) - x(0));
  g.select("rect.fill").attr("width", (r) => x(r.ratio || 0) - x(0))
    .style("fill", (r) => r.group === "Belt and Road" ? "#d99a1e" : "#1f6fb2");
  g.select("text.val").attr("x", (r) => x(r.ratio || 0) + 6)
    .text((r) => r.covered + "/" + r.countries + " · " + fmtPct(r.ratio || 0));
  svg.selectAll("text.foot").data([0]).join("text").attr("class", "foot").attr("x", 0).attr("y", H - 2)
    .style("fill", "#6b7785").text("covered countries / countries in the group");
}

async function renderPartners() {
  const metric = el("metric").value;
  const res = await api("query.centrality", { metric, top: 200 });
  const foreign = res.items.filter((it) => { const n = nodes.get(it.id); return n && n.country && n.country !== homeCountry; });
  const top = foreign.slice(0, 10);
  const max = d3.max(top, (t) => t.score) || 1;
  const fmt = metric === "degree" ? d3.format("d") : d3.format(".3~g");
  const ol = d3.select("#partners");
  ol.selectAll("li").remove();
  top.forEach((t, i) => {
    const n = nodes.get(t.id) || {};
    const li = ol.append("li");
    li.append("span").attr("class", "rank").text(i + 1);
    const name = li.append("span").attr("class", "name");
    name.append("span").attr("class", "bar").style("width", (100 * t.score / max) + "%");
    const lab = name.append("span").attr("class", "label");
    lab.append("span").text(t.name || t.id);
    lab.append("span").attr("class", "zh").text((n.name_zh || "") + " " + (n.country || "") + (COUNTRY_ZH[n.country] ? " " + COUNTRY_ZH[n.country] : ""));
    li.append("span").attr("class", "score").text(fmt(t.score));
  });
  if (!top.length) ol.append("li").text("no foreign partners yet");
}

function drawHeat(byUnit, unitPairs, homeCountry) {
  const units = byUnit.items.map((u, i) => {
    const counts = Object.fromEntries(REGIONS.map((r) => [r, 0]));
    for (const p of unitPairs[i].items) {
      const other = nodes.get(p.a === u.id ? p.b : p.a);
      const c = other && nodes.get(other.country);
      if (other && other.country !== homeCountry && c && counts[c.region] !== undefined) counts[c.region]++;
    }
    return { ...u, counts };
  }).sort((a, b) => d3.descending(a.pairs, b.pairs) || d3.ascending(a.id, b.id));
  const svg = d3.select("#heat");
  const left = 190, cw = 48, rh = 19, top = 22;
  const W = left + cw * REGIONS.length + 40, H = top + rh * units.length + 4;
  svg.attr("viewBox", `0 0 ${W} ${H}`).style("max-width", W * 1.25 + "px");
  svg.selectAll("*").remove();
  const max = d3.max(units, (u) => d3.max(REGIONS, (r) => u.counts[r])) || 1;
  const color = d3.scaleSequentialSqrt([0, max], d3.interpolateBlues);
  REGIONS.forEach((r, j) => svg.append("text").attr("x", left + j * cw + cw / 2).attr("y", 14)
    .attr("text-anchor", "middle").style("font-weight", 600).text(REGION_ZH[r]).append("title").text(r));
  svg.append("text").attr("x", left + REGIONS.length * cw + 20).attr("y", 14).attr("text-anchor", "middle").style("fill", "#6b7785").text("Σ");
  units.forEach((u, i) => {
    const y = top + i * rh;
    const row = svg.append("g").attr("class", "unit").attr("data-unit", u.id).classed("idle", u.pairs === 0);
    row.append("text").attr("x", left - 8).attr("y", y + 13).attr("text-anchor", "end")
      .style("fill", u.pairs === 0 ? "#c0392b" : null).style("font-weight", u.pairs === 0 ? 600 : null)
      .text((zhOf(u.id) ? zhOf(u.id) + " " : "") + shortName(u.name) + (u.pairs === 0 ? " · idle" : ""));
    REGIONS.forEach((r, j) => {
      const v = u.counts[r];
      row.append("rect").attr("x", left + j * cw + 1).attr("y", y + 1).attr("width", cw - 2).attr("height", rh - 2)
        .attr("rx", 2).style("fill", v ? color(v) : (u.pairs === 0 ? "#fbe3df" : "#f2f4f7"));
      if (v) row.append("text").attr("x", left + j * cw + cw / 2).attr("y", y + 13).attr("text-anchor", "middle")
        .style("fill", v > max * 0.5 ? "#fff" : "#1d2733").text(v);
    });
    row.append("text").attr("x", left + REGIONS.length * cw + 20).attr("y", y + 13).attr("text-anchor", "middle")
      .style("fill", "#6b7785").text(u.pairs);
  });
}

function shortName(s) {
  return s.replace(" Autonomous Prefecture", " A.P.").replace("Hunan Province", "Province");
}

function drawTimeline(tl, undated) {
  const svg = d3.select("#timeline");
  const W = 520, H = 250, m = { l: 34, r: 40, t: 12, b: 24 };
  svg.attr("viewBox", `0 0 ${W} ${H}`);
  svg.selectAll("*").remove();
  if (!tl.length) { el("undated").textContent = "no dated pairs"; return; }
  const first = tl[0].year, last = tl[tl.length - 1].year;
  const byYear = new Map(tl.map((t) => [t.year, t]));
  let cum = 0;
  const years = d3.range(first, last + 1).map((y) => { const t = byYear.get(y); cum = t ? t.cumulative : cum; return { year: y, pairs: t ? t.pairs : 0, cumulative: cum }; });
  const x = d3.scaleBand(years.map((d) => d.year), [m.l, W - m.r]).padding(0.15);
  const y = d3.scaleLinear([0, d3.max(years, (d) => d.pairs) || 1], [H - m.b, m.t]).nice();
  const y2 = d3.scaleLinear([0, cum || 1], [H - m.b, m.t]).nice();
  const every = Math.ceil(years.length / 10);
  svg.append("g").attr("class", "axis").attr("transform", `translate(0,${H - m.b})`)
    .call(d3.axisBottom(x).tickValues(years.map((d) => d.year).filter((v, i) => i % every === 0)).tickSizeOuter(0));
  svg.append("g").attr("class", "axis").attr("transform", `translate(${m.l},0)`).call(d3.axisLeft(y).ticks(4).tickFormat(d3.format("d")));
  svg.append("g").attr("class", "axis").attr("transform", `translate(${W - m.r},0)`).call(d3.axisRight(y2).ticks(4).tickFormat(d3.format("d")));
  svg.append("g").selectAll("rect").data(years).join("rect")
    .attr("x", (d) => x(d.year)).attr("width", x.bandwidth()).attr("y", (d) => y(d.pairs))
    .attr("height", (d) => y(0) - y(d.pairs)).style("fill", "#1f6fb2")
    .append("title").text((d) => d.year + ": " + d.pairs + " new, " + d.cumulative + " in all");
  svg.append("path").datum(years).style("fill", "none").style("stroke", "#d99a1e").style("stroke-width", 2)
    .attr("d", d3.line((d) => x(d.year) + x.bandwidth() / 2, (d) => y2(d.cumulative)));
  el("undated").textContent = "Bars: new pairs per year (left axis); line: cumulative dated pairs (right axis). "
    + undated + " pairs have no known date.";
}

function drawGaps(gaps) {
  const chips = d3.select("#under");
  chips.selectAll("span").data(gaps.under_covered, (u) => u.group).join("span").attr("class", "chip")
    .text((u) => "under-covered: " + u.group + " " + fmtPct(u.ratio) + " < " + fmtPct(u.overall));
  const rows = gaps.uncovered.slice(0, 12);
  const tb = d3.select("#gaps tbody");
  tb.selectAll("tr").remove();
  for (const c of rows) {
    const tr = tb.append("tr").attr("data-iso2", c.id);
    const td = tr.append("td");
    td.append("span").text(c.name);
    if (COUNTRY_ZH[c.id]) td.append("span").attr("class", "zh").text(COUNTRY_ZH[c.id]);
    if ((c.tags || []).includes("bri")) td.append("span").attr("class", "tag").text("BRI");
    tr.append("td").text(c.subregion || c.region);
    tr.append("td").attr("class", "num").text(c.peer_pairs);
  }
}

// ---- live updates: /events read with fetch, so a token header can go along ----
function setLive(on) {
  const s = el("live");
  s.classList.toggle("on", on);
  s.classList.toggle("off", !on);
  s.textContent = on ? "live" : "offline";
}

async function listen() {
  const dec = new TextDecoder();
  for (;;) {
    try {
      const r = await fetch("/events", { headers: headers(), cache: "no-store" });
      if (!r.ok || !r.body) throw new Error("events: " + r.status);
      setLive(true);
      const reader = r.body.getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block), data = /^data: (.*)$/m.exec(block);
          if (ev && ev[1] === "epoch" && data) {
            const e = JSON.parse(data[1]);
            if (e.epoch !== lastEpoch) refresh();
          }
        }
      }
    } catch (e) {
      console.warn(e);
    }
    setLive(false);
    await new Promise((res) => setTimeout(res, 3000));
    refresh();
  }
}

async function main() {
  const topo = await (await fetch("/assets/countries-50m.json")).json();
  // One shape per country: parts the atlas keeps apart under one ISO code
  // (Ashmore and Cartier Is. with Australia) are merged into one element.
  world = [];
  for (const [id, geoms] of d3.group(topo.objects.countries.geometries, (g) => g.id)) {
    const parts = id === undefined ? geoms.map((g) => [g]) : [geoms];
    for (const p of parts) {
      const f = p.length === 1 ? topojson.feature(topo, p[0])
        : { type: "Feature", id, properties: { ...p[0].properties }, geometry: topojson.merge(topo, p) };
      f.properties.iso2 = (id !== undefined && ISO[id]) || null;
      world.push(f);
    }
  }
  el("metric").addEventListener("change", () => renderPartners());
  await refresh();
  listen();
}

main();
