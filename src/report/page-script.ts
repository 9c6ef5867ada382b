/**
 * The script of the report page (runs in the browser, after the inlined ECharts): draws each chart from its
 * option JSON with the SVG renderer, putting back the few functions the JSON names as "@fn:<name>". Each chart's
 * element gets data-rendered="true" once ECharts has drawn it.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  var options = JSON.parse(document.getElementById('sluice-chart-options').textContent);
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function rect(params, api, x0, x1, y0, y1) {
    var shape = echarts.graphic.clipRectByRect(
      { x: x0, y: y0, width: Math.max(3, x1 - x0), height: Math.max(1, y1 - y0) },
      { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height }
    );
    return shape && { type: 'rect', shape: shape, style: api.style() };
  }
  var fns = {
    // A sub-batch: value = [row, startMs, endMs, requests].
    ganttBar: function (params, api) {
      var row = api.value(0);
      var start = api.coord([api.value(1), row]);
      var end = api.coord([api.value(2), row]);
      var height = Math.max(2, api.size([0, 1])[1] * 0.7);
      return rect(params, api, start[0], end[0], start[1] - height / 2, start[1] + height / 2);
    },
    // A histogram bin: value = [fromSeconds, toSeconds, count].
    histogramBar: function (params, api) {
      var bottomLeft = api.coord([api.value(0), 0]);
      var topRight = api.coord([api.value(1), api.value(2)]);
      return rect(params, api, bottomLeft[0] + 1, topRight[0] - 1, topRight[1], bottomLeft[1]);
    },
    tip: function (p) {
      return esc((p.data && p.data.tip) || p.name).replace(/\n/g, '<br>');
    },
    barTotal: function (p) {
      return options.cost.series[p.seriesIndex].totals[p.dataIndex];
    },
  };
  function revive(value) {
    if (typeof value === 'string' && value.indexOf('@fn:') === 0) return fns[value.slice(4)];
    if (Array.isArray(value)) return value.map(revive);
    if (value && typeof value === 'object') {
      var out = {};
      for (var k in value) out[k] = revive(value[k]);
      return out;
    }
    return value;
  }
  var charts = {};
  Object.keys(options).forEach(function (id) {
    var el = document.getElementById('chart-' + id);
    var chart = echarts.init(el, null, { renderer: 'svg' });
    chart.on('finished', function () {
      el.setAttribute('data-rendered', 'true');
    });
    var option = revive(options[id]);
    option.animation = false;
    chart.setOption(option);
    charts[id] = chart;
  });
  window.sluiceCharts = charts;
  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });
})();
`;
