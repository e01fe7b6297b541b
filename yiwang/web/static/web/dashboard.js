// Dashboard charts (Apache ECharts, served from our own static files): the trend of registered and
// closed cases, the trend of 三率, channels, the streets' combined score, the leading categories.
// The custom range fields only apply when the period is "custom".
(function () {
  "use strict";
  function periodFields() {
    var select = document.getElementById("id_period");
    if (!select) { return; }
    function sync() {
      var custom = select.value === "custom";
      ["id_start", "id_end"].forEach(function (id) {
        var input = document.getElementById(id);
        input.disabled = !custom;
        input.closest("label").hidden = !custom;
      });
    }
    select.addEventListener("change", sync);
    sync();
  }
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el);
    c.setOption(option);
    el.dataset.rendered = "1";
    return c;
  }
  document.addEventListener("DOMContentLoaded", function () {
    periodFields();
    var node = document.getElementById("dashboard-data");
    if (!node || typeof echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var n = data.names;
    var t = data.trend;
    var charts = [
      chart("chart-trend", {
        tooltip: { trigger: "axis" },
        legend: {},
        grid: { left: 50, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: t.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: n.registered, type: "line", data: t.registered, itemStyle: { color: "#0b5cad" } },
          { name: n.closed, type: "line", data: t.closed, itemStyle: { color: "#1b7a3a" } }
        ]
      }),
      chart("chart-rates", {
        tooltip: { trigger: "axis" },
        legend: {},
        grid: { left: 50, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: t.labels },
        yAxis: { type: "value", min: 0, max: 100 },
        series: [
          { name: n.response, type: "line", data: t.response, connectNulls: true },
          { name: n.solve, type: "line", data: t.solve, connectNulls: true },
          { name: n.satisfaction, type: "line", data: t.satisfaction, connectNulls: true }
        ]
      }),
      chart("chart-channels", {
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "70%"], data: data.channels }]
      }),
      chart("chart-streets", {
        tooltip: { trigger: "axis" },
        grid: { left: 110, right: 20, top: 20, bottom: 20 },
        xAxis: { type: "value", min: 0, max: 100 },
        yAxis: { type: "category", data: data.streets.map(function (r) { return r.name; }), axisLabel: { fontSize: 11 } },
        series: [{ name: n.score, type: "bar", data: data.streets.map(function (r) { return r.value; }), itemStyle: { color: "#0b5cad" } }]
      }),
      chart("chart-categories", {
        tooltip: { trigger: "axis" },
        grid: { left: 160, right: 20, top: 20, bottom: 20 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: data.categories.map(function (r) { return r.name; }), axisLabel: { fontSize: 11 } },
        series: [{ name: n.registered, type: "bar", data: data.categories.map(function (r) { return r.value; }), itemStyle: { color: "#ef6548" } }]
      })
    ];
    window.addEventListener("resize", function () { charts.forEach(function (c) { if (c) { c.resize(); } }); });
  });
})();
