// 一图总揽: streets and grids coloured by open cases, live cases (overdue in red), a grid panel,
// full-screen mode for the wall screen. Data from the page's own JSON endpoint (scoped server-side).
(function () {
  "use strict";
  function fill(n) {
    return n >= 10 ? "#990000" : n >= 5 ? "#ef6548" : n >= 1 ? "#fdbb84" : "#fff7ec";
  }
  // Leaflet writes a string tooltip with innerHTML; case titles are user input, so pass a node.
  function text(s) {
    var span = document.createElement("span");
    span.textContent = s;
    return span;
  }
  function start() {
    var el = document.getElementById("map");
    if (!el || typeof L === "undefined") { return; }
    var status = document.getElementById("map-status");
    var panel = document.getElementById("map-panel");
    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25 }).setView([35.95, 120.05], 10);
    if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }
    var layers = {};
    var selected = null;

    function openGrid(code, layer) {
      if (selected) { layers.grids.resetStyle(selected); }
      selected = layer;
      layer.setStyle({ weight: 3, color: "#0b5cad" });
      var url = el.dataset.gridUrl.replace("000000000000000", encodeURIComponent(code));
      fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (res) { return res.ok ? res.text() : ""; })
        .then(function (html) {
          panel.innerHTML = html; // server-rendered, autoescaped template
          panel.hidden = false;
          panel.focus();
          map.invalidateSize();
        });
    }

    fetch(el.dataset.url, { credentials: "same-origin" })
      .then(function (res) { return res.json(); })
      .then(function (data) {
        layers.streets = L.geoJSON(data.streets, {
          style: { color: "#5a6570", weight: 2, fill: false },
          interactive: false
        });
        layers.grids = L.geoJSON(data.grids, {
          style: function (f) {
            return { color: "#8a949e", weight: 0.6, fillColor: fill(f.properties.open), fillOpacity: 0.75 };
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip(text(p.name + " · " + p.open + (p.late ? " (" + p.late + "!)" : "")), { sticky: true });
            layer.on("click", function () { openGrid(p.code, layer); });
          }
        });
        var caseUrl = el.dataset.caseUrl;
        layers.cases = L.layerGroup(data.cases.map(function (c) {
          var colour = c.late ? "#b3261e" : "#0b5cad";
          var m = L.circleMarker([c.y, c.x], { radius: c.late ? 5 : 3.5, color: colour, fillColor: colour, fillOpacity: 0.9, weight: 1 });
          m.bindTooltip(text(c.n + " " + c.t));
          m.on("click", function () { window.location.href = caseUrl.replace(/0\/?$/, c.id + "/"); });
          return m;
        }));
        layers.grids.addTo(map);
        layers.streets.addTo(map);
        layers.cases.addTo(map);
        var bounds = layers.grids.getBounds();
        if (!bounds.isValid()) { bounds = layers.streets.getBounds(); }
        if (bounds.isValid()) { map.fitBounds(bounds); }
        el.dataset.grids = String(data.grids.features.length);
        el.dataset.loaded = "1";
        status.textContent = data.grids.features.length + " · " + data.total_open;
      })
      .catch(function () { status.textContent = "!"; });

    [["layer-streets", "streets"], ["layer-grids", "grids"], ["layer-cases", "cases"]].forEach(function (pair) {
      var box = document.getElementById(pair[0]);
      box.addEventListener("change", function () {
        var layer = layers[pair[1]];
        if (!layer) { return; }
        if (box.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
      });
    });
    document.getElementById("fullscreen").addEventListener("click", function () {
      var wrap = document.getElementById("map-wrap");
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (wrap.requestFullscreen) { wrap.requestFullscreen(); }
    });
    document.addEventListener("fullscreenchange", function () { setTimeout(function () { map.invalidateSize(); }, 100); });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
