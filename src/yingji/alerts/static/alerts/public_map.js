// The public warning page's map: the warning's areas (JSON in #alert-areas),
// centred on them, or on the city (data-center="lat,lon") when there are none.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("alert-map");
  var source = document.getElementById("alert-areas");
  if (!window.L || !box || !source) { return; }
  var data = JSON.parse(source.textContent);
  var map = L.map(box, {attributionControl: false});
  var layer = L.geoJSON(data, {style: function (f) {
    return {color: f.properties.color, weight: 2, fillOpacity: 0.25}; }}).addTo(map);
  if (data.features.length) {
    map.fitBounds(layer.getBounds());
  } else {
    var center = (box.dataset.center || "23.13,113.26").split(",").map(Number);
    map.setView(center, 9);
  }
  box.dataset.ready = "1";
});
