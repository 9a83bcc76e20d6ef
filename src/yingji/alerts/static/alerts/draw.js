// Drawing a warning area on the drafting form: a polygon fills the GeoJSON field,
// a circle fills the circle fields (centre lat/lon, radius in km). WGS-84 throughout.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("alert-draw-map");
    if (!el || !window.L || !L.Control.Draw) { return; }
    var cfg = JSON.parse(document.getElementById("yingji-map-config").textContent);
    var map = L.map(el).setView(cfg.center, cfg.zoom);
    if (cfg.tileUrl) { L.tileLayer(cfg.tileUrl, {attribution: cfg.tileAttribution}).addTo(map); }
    fetch(cfg.layerUrl.replace(cfg.keyPlaceholder, "districts"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (fc) { L.geoJSON(fc, {style: {color: "#0d3b66", weight: 1, fill: false}}).addTo(map); }
      });
    var drawn = new L.FeatureGroup().addTo(map);
    map.addControl(new L.Control.Draw({
      edit: {featureGroup: drawn, remove: true},
      draw: {polyline: false, rectangle: true, marker: false, circlemarker: false,
             polygon: {allowIntersection: false}, circle: true}
    }));
    var form = document.getElementById("alert-form");
    function clear() {
      drawn.clearLayers();
      form.elements.polygon.value = "";
      form.elements.circle_lat.value = form.elements.circle_lon.value = "";
      form.elements.circle_radius.value = "";
    }
    function fill(layer) {
      if (layer instanceof L.Circle) {
        var c = layer.getLatLng();
        form.elements.circle_lat.value = c.lat.toFixed(6);
        form.elements.circle_lon.value = c.lng.toFixed(6);
        form.elements.circle_radius.value = (layer.getRadius() / 1000).toFixed(3);
      } else {
        form.elements.polygon.value = JSON.stringify(layer.toGeoJSON().geometry);
        form.elements.crs.value = "wgs84";
      }
    }
    map.on(L.Draw.Event.CREATED, function (e) { clear(); drawn.addLayer(e.layer); fill(e.layer); });
    map.on(L.Draw.Event.EDITED, function (e) { e.layers.eachLayer(fill); });
    map.on(L.Draw.Event.DELETED, clear);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
