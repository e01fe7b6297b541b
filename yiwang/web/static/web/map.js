// 一图总揽: streets and grids coloured by open cases or by a metric of the rollups (selector), live
// cases (overdue in red), a case-density heat layer, hotspots, grid staff on duty, the registered
// overlays, a grid panel and full-screen mode for the wall screen. Data from the page's own JSON
// endpoint (scoped server-side); light layers are fetched the first time they are switched on.
(function () {
  "use strict";
  var WORSE = ["#fff7ec", "#fdd49e", "#fdbb84", "#ef6548", "#990000"];
  var BETTER = ["#990000", "#ef6548", "#fdbb84", "#a6d96a", "#1a9641"];
  var NONE = "#e0e0e0";

  // Leaflet writes a string tooltip with innerHTML; names and titles are data, so pass a node.
  function text(s) {
    var span = document.createElement("span");
    span.textContent = s;
    return span;
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) { throw new Error(String(res.status)); }
      return res.json();
    });
  }
  function withParams(url, params) {
    var q = Object.keys(params).map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
    return url + (url.indexOf("?") < 0 ? "?" : "&") + q;
  }
  function classOf(value, breaks) {
    var c = 0;
    breaks.forEach(function (b) { if (value >= b) { c += 1; } });
    return c;
  }

  function start() {
    var el = document.getElementById("map");
    if (!el || typeof L === "undefined") { return; }
    var status = document.getElementById("map-status");
    var panel = document.getElementById("map-panel");
    var metricBox = document.getElementById("map-metric");
    var periodBox = document.getElementById("map-period");
    var legend = document.getElementById("map-legend");
    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25 }).setView([35.95, 120.05], 10);
    if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }
    var layers = {};
    var selected = null;
    // The current colouring: values per grid code, class limits, direction.
    var colouring = { grids: {}, streets: {}, breaks: [1, 5, 10, 20], better: false, unit: "", metric: "open" };

    function fillOf(code, level) {
      var v = colouring[level || "grids"][code];
      if (v === null || v === undefined) { return NONE; }
      if (!colouring.better && v === 0) { return WORSE[0]; }
      var palette = colouring.better ? BETTER : WORSE;
      var c = classOf(v, colouring.breaks);
      return palette[colouring.better ? c : Math.max(1, c)];
    }
    function gridStyle(f) {
      return { color: "#8a949e", weight: 0.6, fillColor: fillOf(f.properties.code), fillOpacity: 0.75 };
    }
    function drawLegend() {
      legend.textContent = "";
      var palette = colouring.better ? BETTER : WORSE;
      var b = colouring.breaks;
      var names = colouring.better
        ? ["<" + b[0], b[0] + "–", b[1] + "–", b[2] + "–", "≥" + b[3]]
        : ["0", "1–", b[1] + "–", b[2] + "–", "≥" + b[3]];
      palette.forEach(function (colour, i) {
        var sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.background = colour;
        legend.appendChild(sw);
        legend.appendChild(document.createTextNode(names[i] + colouring.unit + " "));
      });
      legend.dataset.metric = colouring.metric;
    }
    // Streets are outlines over the grids; with the grid layer off they carry the colouring.
    function streetStyle(f) {
      var filled = !(layers.grids && map.hasLayer(layers.grids));
      return { color: "#5a6570", weight: 2, fill: filled, fillColor: fillOf(f.properties.code, "streets"), fillOpacity: 0.6 };
    }
    function recolour() {
      if (layers.grids) { layers.grids.setStyle(gridStyle); }
      if (layers.streets) { layers.streets.setStyle(streetStyle); }
      drawLegend();
    }
    function loadMetric() {
      var params = { layer: "metric", metric: metricBox.value, period: periodBox.value };
      return getJSON(withParams(el.dataset.url, params)).then(function (data) {
        colouring = { grids: data.grids, streets: data.streets, breaks: data.breaks, better: data.higher_is_better, unit: data.unit, metric: data.metric };
        recolour();
        el.dataset.metric = data.metric;
      });
    }

    function openGrid(code, layer) {
      if (selected) { layers.grids.resetStyle(selected); }
      selected = layer;
      layer.setStyle({ weight: 3, color: "#0b5cad" });
      var url = withParams(el.dataset.gridUrl.replace("000000000000000", encodeURIComponent(code)), { period: periodBox.value });
      fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (res) { return res.ok ? res.text() : ""; })
        .then(function (html) {
          panel.innerHTML = html; // server-rendered, autoescaped template
          panel.hidden = false;
          panel.focus();
          map.invalidateSize();
        });
    }

    // Light layers, built on first use.
    var builders = {
      heat: function () {
        return getJSON(withParams(el.dataset.url, { layer: "heat" })).then(function (data) {
          var half = data.step / 2;
          return L.layerGroup(data.cells.map(function (c) {
            var share = data.max ? c[2] / data.max : 0;
            var r = L.rectangle([[c[1] - half, c[0] - half], [c[1] + half, c[0] + half]], {
              stroke: false, fillColor: share > 0.66 ? "#d7191c" : share > 0.33 ? "#fdae61" : "#fee08b",
              fillOpacity: 0.35 + 0.5 * share, interactive: true
            });
            r.bindTooltip(text(String(c[2])));
            return r;
          }));
        });
      },
      hotspots: function () {
        return getJSON(withParams(el.dataset.url, { layer: "hotspots", days: el.dataset.hotspotDays })).then(function (data) {
          return L.layerGroup(data.hotspots.map(function (h) {
            var m = L.circleMarker([h.y, h.x], { radius: 6 + Math.min(18, 2 * Math.sqrt(h.count)), color: "#6a3d9a", fillColor: "#cab2d6", fillOpacity: 0.8, weight: 2 });
            m.bindTooltip(text("#" + h.rank + " " + h.label + " · " + h.count));
            return m;
          }));
        });
      },
      duty: function () {
        return getJSON(withParams(el.dataset.url, { layer: "duty" })).then(function (data) {
          var group = L.layerGroup();
          if (!layers.grids) { return group; }
          layers.grids.eachLayer(function (layer) {
            var staff = data.grids[layer.feature.properties.code];
            if (!staff || !staff.length) { return; }
            var outline = L.geoJSON(layer.feature, { style: { color: "#1b7a3a", weight: 2.5, fill: false }, interactive: false });
            var marker = L.circleMarker(layer.getBounds().getCenter(), { radius: 5, color: "#1b7a3a", fillColor: "#1b7a3a", fillOpacity: 1 });
            marker.bindTooltip(text(staff.map(function (s) { return s.name + "（" + s.role + "）"; }).join("、")));
            group.addLayer(outline);
            group.addLayer(marker);
          });
          return group;
        });
      }
    };
    function overlayBuilder(box) {
      return function () {
        return getJSON(box.dataset.url).then(function (data) {
          return L.geoJSON(data, {
            style: { color: box.dataset.colour, weight: 2 },
            pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 5, color: box.dataset.colour }); },
            onEachFeature: function (f, layer) {
              var p = f.properties || {};
              if (p.name || p.title) { layer.bindTooltip(text(p.name || p.title)); }
            }
          });
        });
      };
    }
    function toggle(box, key, build) {
      box.addEventListener("change", function () {
        var layer = layers[key];
        if (!box.checked) { if (layer) { map.removeLayer(layer); } if (key === "grids") { recolour(); } return; }
        if (layer) {
          layer.addTo(map);
          if (key === "grids") { layers.streets.bringToFront(); recolour(); }
          return;
        }
        if (!build) { return; }
        build().then(function (made) {
          layers[key] = made;
          if (box.checked) { made.addTo(map); }
          box.dataset.loaded = "1";
        }).catch(function () { status.textContent = "!"; });
      });
    }

    // The shapes (heavy, revalidated with their ETag: a 304 when nothing changed) and the live
    // counts and points (light, fresh on every visit) come separately.
    Promise.all([getJSON(withParams(el.dataset.url, { layer: "shapes" })), getJSON(el.dataset.url)])
      .then(function (answers) {
        var shapes = answers[0], data = answers[1];
        function countOf(table, code, i) { var pair = table[code]; return pair ? pair[i] : 0; }
        colouring.grids = {};
        colouring.streets = {};
        shapes.grids.features.forEach(function (f) { colouring.grids[f.properties.code] = countOf(data.grids, f.properties.code, 0); });
        shapes.streets.features.forEach(function (f) { colouring.streets[f.properties.code] = countOf(data.streets, f.properties.code, 0); });
        layers.streets = L.geoJSON(shapes.streets, { style: streetStyle, interactive: false });
        layers.grids = L.geoJSON(shapes.grids, {
          style: gridStyle,
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var late = countOf(data.grids, p.code, 1);
            layer.bindTooltip(function () {
              var v = colouring.grids[p.code];
              var shown = v === null || v === undefined ? "—" : v + colouring.unit;
              return text(p.name + " · " + shown + (late ? " (" + late + "!)" : ""));
            }, { sticky: true });
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
        el.dataset.grids = String(shapes.grids.features.length);
        el.dataset.loaded = "1";
        status.textContent = shapes.grids.features.length + " · " + data.total_open;
        return loadMetric();
      })
      .catch(function () { status.textContent = "!"; });

    [["layer-streets", "streets"], ["layer-grids", "grids"], ["layer-cases", "cases"],
      ["layer-heat", "heat"], ["layer-hotspots", "hotspots"], ["layer-duty", "duty"]].forEach(function (pair) {
      toggle(document.getElementById(pair[0]), pair[1], builders[pair[1]]);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".map-overlay"), function (box) {
      toggle(box, box.id, overlayBuilder(box));
    });
    metricBox.addEventListener("change", function () { loadMetric().catch(function () { status.textContent = "!"; }); });
    periodBox.addEventListener("change", function () { loadMetric().catch(function () { status.textContent = "!"; }); });
    document.getElementById("fullscreen").addEventListener("click", function () {
      var wrap = document.getElementById("map-wrap");
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (wrap.requestFullscreen) { wrap.requestFullscreen(); }
    });
    document.addEventListener("fullscreenchange", function () { setTimeout(function () { map.invalidateSize(); }, 100); });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
