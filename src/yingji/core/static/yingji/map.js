/*
 * 一张图 (the one map). Layers come from the registry at /api/v1/geo/layers and
 * each layer's features from /api/v1/geo/layers/{key}; modules add layers on the
 * server, never here. Leaflet is served locally; there are no base tiles unless
 * settings.YINGJI_TILE_URL is set, because the platform must work offline.
 * Clicking the map asks /api/v1/geo/lookup which district and street the point is in.
 */
(function () {
  "use strict";

  var LEVEL_LABELS = { city: "市", district: "区", street: "镇街", community: "村居" };

  function readConfig() {
    return JSON.parse(document.getElementById("yingji-map-config").textContent);
  }

  function setStatus(text, isError) {
    var el = document.getElementById("map-status");
    el.textContent = text || "";
    el.classList.toggle("error", Boolean(isError));
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            throw new Error(body.detail || ("HTTP " + response.status));
          });
        }
        return response.json();
      });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Region polygons are drawn, but a click on them falls through to the map's
  // lookup, which names district and street together.
  function isRegionFeature(feature) {
    var props = feature.properties || {};
    return Object.prototype.hasOwnProperty.call(LEVEL_LABELS, props.level);
  }

  function featureStyle(layerStyle, feature) {
    var style = Object.assign({}, layerStyle);
      // a feature may carry its own style (e.g. a sensor coloured by alarm level)
      if (feature.properties && feature.properties.style) Object.assign(style, feature.properties.style);
    if (feature.properties && feature.properties.synthetic && !style.dashArray) {
      style.dashArray = "4 4";
    }
    return style;
  }

  function featurePopup(props) {
    var box = el("div", "yingji-popup");
    var title = props.name || props.title || props.code || "(未命名)";
    box.appendChild(el("strong", null, title));
    if (props.code && props.code !== title) box.appendChild(el("div", null, "代码:" + props.code));
    if (props.synthetic) box.appendChild(el("div", "synthetic", "合成示意边界(非法定)"));
    return box;
  }

  function regionLine(label, region) {
    var line = el("div", null, label + ":" + region.name + "(" + region.code + ")");
    if (region.boundary_synthetic) line.appendChild(el("span", "synthetic", " 合成示意边界,仅供参考"));
    return line;
  }

  function lookupPopup(answer) {
    var box = el("div", "yingji-popup");
    if (!answer.district) {
      box.appendChild(el("div", null, "该位置不在任何已加载的区划内"));
    } else {
      box.appendChild(regionLine("区", answer.district));
      box.appendChild(answer.street ? regionLine("镇街", answer.street)
        : el("div", null, "镇街:未知(该区没有镇街边界)"));
    }
    box.appendChild(el("div", "muted",
      "WGS-84:" + answer.lon.toFixed(6) + ", " + answer.lat.toFixed(6)));
    return box;
  }

  var LayerPanel = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var div = L.DomUtil.create("div", "leaflet-bar yingji-layers");
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.appendChild(el("strong", null, "图层"));
      this.body = el("div");
      div.appendChild(this.body);
      div.appendChild(el("div", "legend", "虚线:合成示意边界(非法定)"));
      return div;
    },
    groupBox: function (name) {
      this.groups = this.groups || {};
      if (!this.groups[name]) {
        var section = el("section");
        section.appendChild(el("h3", null, name));
        this.body.appendChild(section);
        this.groups[name] = section;
      }
      return this.groups[name];
    }
  });

  function init() {
    var cfg = readConfig();
    var map = L.map("map", { center: cfg.center, zoom: cfg.zoom });
    if (cfg.tileUrl) {
      L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution, maxZoom: 18 }).addTo(map);
    } else {
      setStatus("离线模式:未配置底图(YINGJI_TILE_URL),仅显示业务图层。");
    }
    var panel = new LayerPanel().addTo(map);
    // The map opens on everything the layers switched on at load show (the union of
    // their extents, never closer than street level); a layer switched on later
    // does not move the map.
    var opening = L.latLngBounds([]);
    var initialising = true;
    var autoFit = true;

    function layerUrl(key) {
      return cfg.layerUrl.replace(cfg.keyPlaceholder, encodeURIComponent(key));
    }

    // ?layers=a,b,c opens the one map with those layers on (pages link to it
    // with a preset instead of drawing a map of their own).
    var presetKeys = (new URLSearchParams(location.search).get("layers") || "")
      .split(",").filter(Boolean);

    function addEntry(def) {
      var label = el("label");
      var box = el("input");
      box.type = "checkbox";
      var state = el("span", "state");
      label.appendChild(box);
      label.appendChild(el("span", null, def.title));
      label.appendChild(state);
      panel.groupBox(def.group).appendChild(label);
      var leafletLayer = null;

      function show() {
        if (leafletLayer) { leafletLayer.addTo(map); return; }
        var atOpening = initialising;
        state.textContent = "加载中…";
        state.classList.remove("error");
        fetchJson(layerUrl(def.key)).then(function (data) {
          leafletLayer = L.geoJSON(data, {
            style: function (feature) { return featureStyle(def.style, feature); },
            pointToLayer: function (feature, latlng) {
              return L.circleMarker(latlng, Object.assign({ radius: 6 }, featureStyle(def.style, feature)));
            },
            onEachFeature: function (feature, layer) {
              if (isRegionFeature(feature)) return;
              layer.options.bubblingMouseEvents = false;
              layer.bindPopup(featurePopup(feature.properties || {}));
            }
          });
          state.textContent = "(" + data.features.length + ")";
          if (box.checked) leafletLayer.addTo(map);
          var bounds = leafletLayer.getBounds();
          if (atOpening && autoFit && bounds.isValid()) {
            opening.extend(bounds);
            map.fitBounds(opening, { maxZoom: 15 });
          }
        }).catch(function (err) {
          state.textContent = "加载失败";
          state.classList.add("error");
          setStatus("图层「" + def.title + "」加载失败:" + err.message, true);
        });
      }

      box.addEventListener("change", function () {
        if (box.checked) show();
        else if (leafletLayer) map.removeLayer(leafletLayer);
      });
      var on = presetKeys.length ? presetKeys.indexOf(def.key) >= 0 : def.default_on;
      if (on) { box.checked = true; show(); }
    }

    fetchJson(cfg.layersUrl).then(function (defs) {
      if (!defs.length) setStatus("尚未注册任何图层。");
      defs.forEach(addEntry);
      initialising = false;
    }).catch(function (err) {
      setStatus("无法读取图层目录:" + err.message, true);
    });

    var marker = null;
    function lookup(lon, lat, crs) {
      var url = cfg.lookupUrl + "?" + new URLSearchParams({ lon: lon, lat: lat, crs: crs });
      return fetchJson(url).then(function (answer) {
        var at = L.latLng(answer.lat, answer.lon);
        if (marker) map.removeLayer(marker);
        marker = L.circleMarker(at, { radius: 6, color: "#c62828", weight: 2, fillOpacity: 0.6 }).addTo(map);
        L.popup().setLatLng(at).setContent(lookupPopup(answer)).openOn(map);
        return at;
      }).catch(function (err) {
        setStatus("查询失败:" + err.message, true);
      });
    }

    // Once the user moves the map, layers still loading no longer re-fit it.
    map.on("dragstart", function () { autoFit = false; });
    map.on("click", function (e) { lookup(e.latlng.lng, e.latlng.lat, "wgs84"); });

    var lookupForm = document.getElementById("map-lookup");
    if (lookupForm) lookupForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var form = e.target;
      lookup(form.lon.value, form.lat.value, form.crs.value).then(function (at) {
        if (at) map.setView(at, Math.max(map.getZoom(), 12));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
