// Dashboard charts (Apache ECharts). Data comes from a json_script block; every chart
// labels its values so that it reads without colour, and the same numbers are in tables.
(function () {
  var node = document.getElementById("dashboard-data");
  if (!node || typeof echarts === "undefined") return;
  var d = JSON.parse(node.textContent);
  var font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: "svg" });
    option.textStyle = { fontFamily: font };
    option.animation = false;
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }
  chart("chart-participation", {
    tooltip: { trigger: "axis" },
    legend: { data: [d.year + "年", (d.year - 1) + "年"] },
    grid: { left: 40, right: 16, top: 36, bottom: 24 },
    xAxis: { type: "category", data: d.months },
    yAxis: { type: "value", min: 0, max: 100 },
    series: [
      { name: d.year + "年", type: "line", data: d.participation, symbol: "circle", symbolSize: 7, label: { show: true, fontSize: 10 } },
      { name: (d.year - 1) + "年", type: "line", data: d.participation_last, symbol: "triangle", lineStyle: { type: "dashed" } }
    ]
  });
  chart("chart-rules", {
    tooltip: {},
    grid: { left: 60, right: 40, top: 8, bottom: 24 },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", data: d.rules },
    series: [{ type: "bar", data: d.rule_shares, label: { show: true, position: "right", formatter: "{c}%" } }]
  });
  chart("chart-types", {
    tooltip: {},
    grid: { left: 90, right: 40, top: 8, bottom: 24 },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: d.types },
    series: [{ type: "bar", data: d.type_counts, label: { show: true, position: "right" } }]
  });
})();

// Heat-map cells: tap, click, Enter or Space shows what is missing (not only a title tooltip).
document.addEventListener("click", function (e) {
  var cell = e.target.closest && e.target.closest(".heat-cell");
  if (!cell) return;
  var detail = document.getElementById(cell.getAttribute("aria-controls"));
  if (!detail) return;
  var open = cell.getAttribute("aria-expanded") === "true";
  cell.setAttribute("aria-expanded", open ? "false" : "true");
  detail.hidden = open;
});
