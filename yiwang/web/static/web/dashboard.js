// Dashboard charts (Apache ECharts, served from our own static files).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("dashboard-data");
    if (!node || typeof echarts === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var streets = echarts.init(document.getElementById("chart-streets"));
    streets.setOption({
      tooltip: { trigger: "axis" },
      legend: {},
      grid: { left: 110, right: 20, top: 30, bottom: 20 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.streets.map(function (r) { return r.name; }), axisLabel: { fontSize: 11 } },
      series: [
        { name: "open", type: "bar", stack: "s", data: data.streets.map(function (r) { return r.open; }), itemStyle: { color: "#ef6548" } },
        { name: "closed", type: "bar", stack: "s", data: data.streets.map(function (r) { return r.closed; }), itemStyle: { color: "#1b7a3a" } }
      ]
    });
    var channels = echarts.init(document.getElementById("chart-channels"));
    channels.setOption({
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "70%"], data: data.channels.map(function (r) { return { name: r.name, value: r.total }; }) }]
    });
    window.addEventListener("resize", function () { streets.resize(); channels.resize(); });
  });
})();
