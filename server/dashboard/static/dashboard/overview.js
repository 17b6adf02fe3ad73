/* Overview trend chart. The data (and its translated labels) come from the json_script
   element "trend-data"; nothing is built from page text, so no agent string reaches JS. */
(function () {
  "use strict";
  var source = document.getElementById("trend-data");
  var canvas = document.getElementById("trend-chart");
  if (!source || !canvas || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.days,
      datasets: [
        {
          label: data.labels.rate,
          data: data.rate,
          yAxisID: "rate",
          borderColor: "#1e7b45",
          backgroundColor: "#1e7b45",
          tension: 0.2,
          spanGaps: true
        },
        {
          label: data.labels.noncompliant,
          data: data.noncompliant,
          yAxisID: "hosts",
          borderColor: "#b3261e",
          backgroundColor: "#b3261e",
          tension: 0.2
        },
        {
          label: data.labels.unchecked,
          data: data.unchecked,
          yAxisID: "hosts",
          borderColor: "#7a4fa3",
          backgroundColor: "#7a4fa3",
          tension: 0.2
        },
        {
          label: data.labels.silent,
          data: data.silent,
          yAxisID: "hosts",
          borderColor: "#9a5b00",
          backgroundColor: "#9a5b00",
          borderDash: [4, 4],
          tension: 0.2,
          spanGaps: false
        }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        rate: { type: "linear", position: "left", min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } },
        hosts: { type: "linear", position: "right", min: 0, beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } }
      }
    }
  });
})();
