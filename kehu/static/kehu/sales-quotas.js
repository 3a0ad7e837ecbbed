/* The quotas page: draws the monthly sales trend (and the monthly target where one is
 * set) with ECharts from the figures the page carries in a JSON script element.
 * CSP: no inline script or style; the tooltip is drawn on the canvas (richText), so
 * ECharts writes no style attributes into the page. */
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("trend-chart");
    var source = document.getElementById("trend-data");
    if (!holder || !source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    holder.style.height = (holder.getAttribute("data-chart-height") || "320") + "px";
    var toNumber = function (value) {
      return value === null || value === undefined ? null : Number(value);
    };
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    var series = [
      {
        name: data.names.actual,
        type: "bar",
        data: data.actual.map(toNumber),
        itemStyle: { color: "#206bc4" }
      }
    ];
    if (data.target.some(function (value) { return value !== null; })) {
      series.push({
        name: data.names.target,
        type: "line",
        step: "middle",
        connectNulls: false,
        data: data.target.map(toNumber),
        itemStyle: { color: "#d63939" }
      });
    }
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, data: series.map(function (s) { return s.name; }) },
      grid: { left: 70, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value" },
      series: series
    });
    holder.setAttribute("data-chart-ready", "true");
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
