/*
 * 指挥大屏 (the command screen). The layers and panels are the modules' feeds
 * (core/command.py), described in #cmd-config; this file only draws marks and
 * rows, never a module's objects by name.
 *
 * Districts and streets come once, simplified, from regionsUrl: a mark with
 * "rg" is drawn from them, so no boundary travels with an update. Then the
 * screen polls updateUrl every pollMs (start to start), sending the version it
 * holds of each feed (?v=key:version,…); the answer carries only what changed:
 * a layer's full marks, or its changed marks and removed ids against the base
 * version held. Timings are kept in window.yingjiCommand.stats.
 */
(function () {
  "use strict";

  var COLOURS = {
    red: "#ff453a", orange: "#ff9f0a", yellow: "#ffd60a", blue: "#3d9bff",
    I: "#ff453a", II: "#ff9f0a", III: "#ffd60a", IV: "#3d9bff",
    green: "#32d74b", grey: "#98a2b3"
  };
  var LEVEL_WORDS = {
    red: "红色", orange: "橙色", yellow: "黄色", blue: "蓝色",
    I: "Ⅰ级", II: "Ⅱ级", III: "Ⅲ级", IV: "Ⅳ级"
  };
  var cfg, map, regions = {}, layers = {}, panels = {};
  var clockOffset = 0;
  var stats = { polls: 0, errors: 0, intervals: [], latencies: [], serverMs: [], bytes: [], lastStart: null };
  var encoder = new TextEncoder();

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function colourOf(style, lv) {
    return COLOURS[lv] || style.color || "#8ab4f8";
  }

  function latlng(p) { return [p[1], p[0]]; }

  // ------------------------------------------------------------------ time

  function fmtTime(epochMs, withDate) {
    var opts = { timeZone: cfg.timeZone, hour12: false, hour: "2-digit", minute: "2-digit" };
    if (withDate) { opts.month = "numeric"; opts.day = "numeric"; }
    else opts.second = "2-digit";
    try { return new Date(epochMs).toLocaleString("zh-CN", opts); }
    catch (e) { return new Date(epochMs).toLocaleTimeString("zh-CN", { hour12: false }); }
  }

  function tickClock() {
    document.getElementById("cmd-clock").textContent = fmtTime(Date.now() + clockOffset, false);
  }

  function setStatus(text, bad) {
    var node = document.getElementById("cmd-status");
    node.textContent = text;
    node.classList.toggle("bad", Boolean(bad));
  }

  // ------------------------------------------------------------------ map

  function drawRegions(data) {
    var districts = [], streets = [];
    data.regions.forEach(function (r) {
      regions[r.code] = r;
      if (!r.g) return;
      (r.level === "district" ? districts : streets).push({ type: "Feature", geometry: r.g, properties: {} });
    });
    L.geoJSON({ type: "FeatureCollection", features: streets }, {
      interactive: false, style: { color: "#3a4a5e", weight: 1, fill: false, className: "cmd-street" }
    }).addTo(map);
    var outline = L.geoJSON({ type: "FeatureCollection", features: districts }, {
      interactive: false,
      style: { color: "#7f93ad", weight: 2, fillColor: "#14202e", fillOpacity: 0.6, className: "cmd-district" }
    }).addTo(map);
    data.regions.forEach(function (r) {
      if (r.level !== "district" || !r.c) return;
      L.marker(latlng(r.c), {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "cmd-district-name", html: "", iconSize: null })
      }).addTo(map).getElement().textContent = r.name;
    });
    var bounds = outline.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  }

  // The mark's title, or one made of its label, level and number.
  function titleOf(def, mark) {
    if (mark.ti) return mark.ti;
    var style = def.style || {};
    var place = mark.at && regions[mark.at];
    var parts = [mark.tx || (place && place.name) || def.title];
    if (style.levelWords !== false && mark.lv && LEVEL_WORDS[mark.lv]) parts.push(LEVEL_WORDS[mark.lv]);
    if (mark.n !== undefined && mark.n !== null) parts.push(mark.n + (style.nUnit || ""));
    var names = style.parts || [];
    (mark.c || []).forEach(function (v, i) { if (v && names[i]) parts.push(names[i] + " " + v); });
    return parts.join(" · ");
  }

  function drawMark(layer, mark) {
    var def = layer.def, style = def.style || {};
    var lv = mark.lv || style.level || "";
    var colour = colourOf(style, lv);
    var drill = Boolean(mark.dr || cfg.drill);
    var cls = "cmd-mark cmd-" + def.key + (lv ? " lv-" + lv : "") + (drill ? " is-drill" : "");
    var shape = style.shape || "dot";
    var obj = null;
    var at = mark.pt || (mark.at && regions[mark.at] && regions[mark.at].c);
    if (at) {
      if (shape === "dot") {
        obj = L.circleMarker(latlng(at), {
          radius: style.size || 6, color: "#0b1420", weight: 1, fillColor: colour, fillOpacity: 0.95,
          className: cls
        });
      } else {
        var size = style.size || 26;
        var html = '<span class="cmd-shape" style="--c:' + colour + '"></span>';
        obj = L.marker(latlng(at), {
          keyboard: false,
          icon: L.divIcon({ className: cls + " shape-" + shape, html: html, iconSize: [size, size] })
        });
        obj.on("add", function () {
          var node = obj.getElement();
          if (!node) return;
          node.dataset.id = mark.id;
          if (mark.n !== undefined && mark.n !== null) node.querySelector(".cmd-shape").textContent = mark.n;
          if (mark.tx) node.appendChild(el("span", "cmd-label", mark.tx));
        });
      }
    } else if (mark.rg) {
      var region = regions[mark.rg];
      if (region && region.g) {
        obj = L.geoJSON(region.g, {
          style: { color: colour, weight: 3, fillColor: colour, fillOpacity: style.fillOpacity || 0.28,
                   dashArray: drill ? "8 6" : null, className: cls }
        });
      } else if (region && region.c) {
        obj = L.circleMarker(latlng(region.c), { radius: 14, color: colour, fillColor: colour, fillOpacity: 0.3, className: cls });
      }
    } else if (mark.ci) {
      obj = L.circle([mark.ci[1], mark.ci[0]], {
        radius: mark.ci[2], color: colour, weight: 3, fillColor: colour,
        fillOpacity: style.fillOpacity || 0.28, className: cls
      });
    } else if (mark.pg) {
      obj = L.polygon(mark.pg.map(function (ring) { return ring.map(latlng); }), {
        color: colour, weight: 3, fillColor: colour, fillOpacity: style.fillOpacity || 0.28, className: cls
      });
    } else if (mark.ln) {
      obj = L.polyline(mark.ln.map(latlng), { color: colour, weight: 4, dashArray: "12 8", className: cls });
    }
    if (!obj) return null;
    var title = (drill ? "【演练】" : "") + titleOf(def, mark);
    if (title) obj.bindTooltip(title, { className: "cmd-tip", direction: "top" });
    return obj;
  }

  function removeMark(layer, id) {
    var obj = layer.objs[id];
    if (obj) layer.group.removeLayer(obj);
    delete layer.objs[id];
    delete layer.marks[id];
  }

  function addMark(layer, mark) {
    var id = String(mark.id);
    removeMark(layer, id);
    layer.marks[id] = mark;
    var obj = drawMark(layer, mark);
    if (obj) { layer.objs[id] = obj; layer.group.addLayer(obj); }
  }

  // A row back into a mark: its values are in the order of the change's keys.
  function unpack(keys, row) {
    var mark = {};
    for (var i = 0; i < keys.length; i++) if (row[i] !== null && row[i] !== undefined) mark[keys[i]] = row[i];
    return mark;
  }

  function applyLayer(key, change) {
    var layer = layers[key];
    if (!layer) return;
    var keys = change.k || [];
    if (change.full) {
      Object.keys(layer.marks).forEach(function (id) { removeMark(layer, id); });
      change.full.forEach(function (row) { addMark(layer, unpack(keys, row)); });
    } else {
      if (layer.version !== change.base) { layer.version = null; return; } // resend whole next time
      (change.del || []).forEach(function (id) { removeMark(layer, String(id)); });
      (change.put || []).forEach(function (row) { addMark(layer, unpack(keys, row)); });
    }
    layer.version = change.v;
    layer.more = change.more || 0;
    var n = Object.keys(layer.marks).length;
    layer.count.textContent = n + (layer.more ? "+" + layer.more : "");
    layer.item.classList.toggle("empty", n === 0);
  }

  function buildLegend() {
    var legend = document.getElementById("cmd-legend");
    L.DomEvent.disableClickPropagation(legend);
    cfg.layers.forEach(function (def) {
      var group = L.featureGroup();
      var item = el("li", "cmd-legend-item");
      item.dataset.layer = def.key;
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      box.checked = def.on !== false;
      var swatch = el("span", "cmd-swatch shape-" + ((def.style || {}).shape || "dot"));
      swatch.style.setProperty("--c", colourOf(def.style || {}, (def.style || {}).level));
      var count = el("b", "cmd-count", "0");
      label.appendChild(box);
      label.appendChild(swatch);
      label.appendChild(el("span", "cmd-legend-title", def.title));
      label.appendChild(count);
      item.appendChild(label);
      legend.appendChild(item);
      if (box.checked) group.addTo(map);
      box.addEventListener("change", function () {
        if (box.checked) group.addTo(map); else map.removeLayer(group);
      });
      layers[def.key] = { def: def, group: group, marks: {}, objs: {}, version: null, more: 0, count: count, item: item };
    });
  }

  // ------------------------------------------------------------------ panels

  function sparkline(values) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "cmd-spark");
    svg.setAttribute("viewBox", "0 0 100 30");
    svg.setAttribute("preserveAspectRatio", "none");
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    var span = max - min || 1;
    var points = values.map(function (v, i) {
      var x = values.length === 1 ? 100 : (i / (values.length - 1)) * 100;
      return x.toFixed(1) + "," + (28 - ((v - min) / span) * 26).toFixed(1);
    }).join(" ");
    var line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points);
    svg.appendChild(line);
    return svg;
  }

  function buildPanels() {
    var side = document.getElementById("cmd-side");
    cfg.panels.forEach(function (def) {
      var section = el("section", "cmd-panel cmd-panel-" + def.kind);
      section.id = "panel-" + def.key;
      section.dataset.panel = def.key;
      section.appendChild(el("h2", null, def.title));
      var list = el(def.kind === "timeline" ? "ol" : "ul", "cmd-rows");
      section.appendChild(list);
      side.appendChild(section);
      panels[def.key] = { def: def, list: list, version: null };
    });
    panels._figures = { def: { key: "_figures", kind: "figures" }, list: document.getElementById("cmd-figures"), version: null };
  }

  function renderRows(list, data) {
    list.textContent = "";
    var rows = (data && data.rows) || [];
    rows.forEach(function (r) {
      var li = el("li", "cmd-row" + (r.l ? " lv-" + r.l : "") + (cfg.drill || r.dr ? " is-drill" : ""));
      var head = el("div", "cmd-row-head");
      head.appendChild(el("span", "cmd-row-t", r.t));
      if (r.s && r.s.length > 1) head.appendChild(sparkline(r.s));
      if (r.v !== undefined && r.v !== null && r.v !== "") head.appendChild(el("span", "cmd-row-v", r.v));
      li.appendChild(head);
      if (r.d) li.appendChild(el("div", "cmd-row-d", r.d));
      list.appendChild(li);
    });
    if (!rows.length) list.appendChild(el("li", "cmd-empty", (data && data.empty) || "暂无"));
    if (data && data.more) list.appendChild(el("li", "cmd-more", "另有 " + data.more + " 项"));
  }

  function renderTimeline(list, entries) {
    list.textContent = "";
    var today = fmtTime(Date.now() + clockOffset, true).split(" ")[0];
    entries.forEach(function (e) {
      var li = el("li", "cmd-row" + (e.l ? " lv-" + e.l : "") + (cfg.drill || e.dr ? " is-drill" : ""));
      var when = fmtTime(e.at * 1000, true);
      var parts = when.split(" ");
      li.appendChild(el("time", "cmd-when", parts[0] === today && parts[1] ? parts[1] : when));
      if (e.k) li.appendChild(el("span", "cmd-kind", (cfg.drill || e.dr ? "演练·" : "") + e.k));
      li.appendChild(el("span", "cmd-text", e.t));
      list.appendChild(li);
    });
    if (!entries.length) list.appendChild(el("li", "cmd-empty", "近 24 小时无事件记录"));
  }

  function renderFigures(list, figures) {
    list.textContent = "";
    figures.forEach(function (f) {
      var li = el("li", "cmd-fig" + (f.tone ? " tone-" + f.tone : ""));
      li.appendChild(el("b", null, f.v));
      li.appendChild(el("span", null, f.t));
      list.appendChild(li);
    });
  }

  function applyPanel(key, change) {
    var panel = panels[key];
    if (!panel) return;
    panel.version = change.v;
    if (panel.def.kind === "timeline") renderTimeline(panel.list, change.data || []);
    else if (panel.def.kind === "figures") renderFigures(panel.list, change.data || []);
    else renderRows(panel.list, change.data);
  }

  // ------------------------------------------------------------------ polling

  function knownParam() {
    var parts = [];
    Object.keys(layers).forEach(function (k) { if (layers[k].version) parts.push(k + ":" + layers[k].version); });
    Object.keys(panels).forEach(function (k) { if (panels[k].version) parts.push(k + ":" + panels[k].version); });
    return parts.join(",");
  }

  function apply(update) {
    clockOffset = update.t - Date.now();
    Object.keys(update.f).forEach(function (key) {
      var change = update.f[key];
      if (layers[key]) applyLayer(key, change);
      else applyPanel(key, change);
    });
  }

  function poll() {
    var started = performance.now();
    if (stats.lastStart !== null) stats.intervals.push(Math.round(started - stats.lastStart));
    stats.lastStart = started;
    var sep = cfg.updateUrl.indexOf("?") >= 0 ? "&" : "?";
    var url = cfg.updateUrl + sep + "v=" + encodeURIComponent(knownParam());
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        var update = JSON.parse(text);
        apply(update);
        var took = Math.round(performance.now() - started);
        stats.polls += 1;
        stats.latencies.push(took);
        stats.serverMs.push(update.ms);
        stats.bytes.push(encoder.encode(text).length);
        var note = "更新于 " + fmtTime(update.t, false) + " · 每 " + Math.round(cfg.pollMs / 100) / 10 + " 秒刷新 · 用时 " + took + " 毫秒";
        if (update.err && update.err.length) setStatus(note + " · 暂缺:" + update.err.join("、"), true);
        else setStatus(note, false);
      })
      .catch(function (err) {
        stats.errors += 1;
        setStatus("连接中断,正在重试(" + err.message + ")", true);
      })
      .then(function () {
        var wait = Math.max(0, cfg.pollMs - (performance.now() - started));
        window.setTimeout(poll, wait);
      });
  }

  function init() {
    cfg = JSON.parse(document.getElementById("cmd-config").textContent);
    map = L.map("cmd-map", {
      center: cfg.center, zoom: cfg.zoom, zoomControl: false, attributionControl: false, zoomSnap: 0.1
    });
    if (cfg.tileUrl) L.tileLayer(cfg.tileUrl, { maxZoom: 18 }).addTo(map);
    buildLegend();
    buildPanels();
    tickClock();
    window.setInterval(tickClock, 1000);
    window.yingjiCommand = { stats: stats, layers: layers, config: cfg, map: map };
    fetch(cfg.regionsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(drawRegions)
      .catch(function (err) { setStatus("区划轮廓加载失败:" + err.message, true); })
      .then(poll);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
