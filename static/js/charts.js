// Renders every figure a page embeds with {{ figure|json_script:"figure-NAME" }} into the
// element with id "chart-NAME". If that element has data-link (a URL with "ID" in it), a click
// on a point that carries a decision id (customdata[0]) opens it.
(function () {
  function render() {
    document.querySelectorAll('script[type="application/json"][id^="figure-"]').forEach(function (node) {
      var target = document.getElementById(node.id.replace(/^figure-/, 'chart-'));
      if (!target) return;
      var figure = JSON.parse(node.textContent);
      Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
      if (target.dataset.link) {
        target.on('plotly_click', function (event) {
          var point = event.points && event.points[0];
          if (point && point.customdata) window.location = target.dataset.link.replace('ID', point.customdata[0]);
        });
      }
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', render);
  else render();
})();
