// The small map of a case page: the case's point and its grid's boundary; no basemap unless
// the installation configures a tile URL.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("case-map");
    if (!el || typeof L === "undefined") { return; }
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
    var map = L.map(el, { attributionControl: true }).setView([lat, lng], 15);
    if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }
    var boundary = document.getElementById("case-grid-boundary");
    if (boundary) {
      var layer = L.geoJSON(JSON.parse(boundary.textContent), { style: { color: "#a4211a", weight: 2, fillOpacity: 0.08 } }).addTo(map);
      map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    }
    L.circleMarker([lat, lng], { radius: 7, color: "#b3261e", fillColor: "#b3261e", fillOpacity: 0.9 }).addTo(map);
  }
  document.addEventListener("DOMContentLoaded", start);
})();
