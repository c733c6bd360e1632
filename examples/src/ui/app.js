// The query page: a PromQL box, a Table tab (instant query), a Graph tab (range query drawn
// with uPlot), and views of the alerts and rules. It uses only Prometheus's public HTTP API,
// through relative URLs, so it works in front of any Prometheus-compatible server.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };

  // ---------------------------------------------------------------------------------------
  // Pure helpers (exposed as window.promUI for the browser test).

  var UNIT_SECONDS = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

  /** Seconds in a Prometheus duration ("1h30m", "15s", "500ms") or a plain number of
   *  seconds ("2.5"); null when it is neither or not positive. */
  function parseDuration(text) {
    var s = String(text).trim();
    if (s === '') return null;
    if (/^\d+(\.\d+)?$/.test(s)) {
      var n = parseFloat(s);
      return n > 0 ? n : null;
    }
    var re = /(\d+)(ms|y|w|d|h|m|s)/g;
    var total = 0;
    var consumed = 0;
    var m;
    while ((m = re.exec(s)) !== null) {
      if (m.index !== consumed) return null;
      total += parseInt(m[1], 10) * UNIT_SECONDS[m[2]];
      consumed = re.lastIndex;
    }
    if (consumed !== s.length || total <= 0) return null;
    return total;
  }

  /** A number of seconds as a Prometheus duration: 3600 -> "1h", 90 -> "1m30s". */
  function formatDuration(sec) {
    var ms = Math.round(sec * 1000);
    if (ms <= 0) return '0s';
    var out = '';
    var units = [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000], ['ms', 1]];
    for (var i = 0; i < units.length; i++) {
      var q = Math.floor(ms / units[i][1]);
      if (q > 0) {
        out += q + units[i][0];
        ms -= q * units[i][1];
      }
    }
    return out;
  }

  /** Unix seconds from "now"/empty (null), a Unix timestamp, or an RFC 3339 / ISO date
   *  (UTC when no zone is given); undefined when it cannot be read. */
  function parseTime(text) {
    var s = String(text).trim();
    if (s === '' || s === 'now') return null;
    if (/^-?\d+(\.\d+)?$/.test(s)) return parseFloat(s);
    var iso = s.replace(' ', 'T');
    if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00';
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z';
    var ms = Date.parse(iso);
    return isNaN(ms) ? undefined : ms / 1000;
  }

  /** Unix seconds as "2024-01-02T15:04:05Z" (milliseconds only when there are some). */
  function formatTime(sec) {
    var d = new Date(sec * 1000);
    if (isNaN(d.getTime())) return String(sec);
    return d.toISOString().replace('.000Z', 'Z');
  }

  /** Prometheus's own default: a step that gives about 250 points, at least 1 s. */
  function autoStep(rangeSec) {
    return Math.max(Math.floor(rangeSec / 250), 1);
  }

  /** Where an API error message ("... 1:5: parse error: ...", line and 1-based byte column)
   *  points in `query`, as JS string indexes {line, column, start, end}; null if it names no
   *  position or the position is outside the query. */
  function errorPosition(message, query) {
    var m = /(\d+):(\d+): parse error/.exec(String(message));
    if (!m) return null;
    var line = parseInt(m[1], 10);
    var col = parseInt(m[2], 10);
    if (line < 1 || col < 1) return null;
    var lines = query.split('\n');
    if (line > lines.length) return null;
    var start = 0;
    for (var i = 0; i < line - 1; i++) start += lines[i].length + 1;
    // The column counts UTF-8 bytes; walk the line's code points to find the index.
    var text = lines[line - 1];
    var bytes = 0;
    var idx = 0;
    while (bytes < col - 1 && idx < text.length) {
      var cp = text.codePointAt(idx);
      bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      idx += cp >= 0x10000 ? 2 : 1;
    }
    if (bytes < col - 1) return null;
    start += idx;
    var end = start;
    if (/[A-Za-z0-9_:.]/.test(query.charAt(start))) {
      while (end < query.length && /[A-Za-z0-9_:.]/.test(query.charAt(end))) end++;
    } else if (start < query.length) {
      end = start + (query.codePointAt(start) >= 0x10000 ? 2 : 1);
    }
    return { line: line, column: col, start: start, end: end };
  }

  /** A series' labels in PromQL form: name{a="b", c="d"}. */
  function metricToString(metric) {
    var name = metric.__name__ || '';
    var parts = [];
    Object.keys(metric).sort().forEach(function (k) {
      if (k === '__name__') return;
      parts.push(k + '=' + JSON.stringify(metric[k]));
    });
    if (parts.length === 0) return name === '' ? '{}' : name;
    return name + '{' + parts.join(', ') + '}';
  }

  /** A sample value for display: Prometheus's strings, floats trimmed to 8 significant digits. */
  function formatNumber(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    return String(parseFloat(v.toPrecision(8)));
  }

  // ---------------------------------------------------------------------------------------
  // DOM helpers.

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function row(cells) {
    var tr = el('tr');
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c;
      tr.appendChild(td);
    });
    return tr;
  }

  function showError(box, err) {
    if (!err) {
      box.hidden = true;
      clear(box);
      return;
    }
    clear(box);
    box.appendChild(el('strong', null, (err.errorType || 'error') + ': '));
    box.appendChild(el('span', 'error-message', err.message));
    box.hidden = false;
  }

  // ---------------------------------------------------------------------------------------
  // The API.

  function ApiError(errorType, message) {
    this.errorType = errorType;
    this.message = message;
  }

  function api(path, params) {
    var init = { method: 'GET', headers: { Accept: 'application/json' } };
    if (params) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(params).toString();
    }
    return fetch(path, init).then(function (resp) {
      return resp.text().then(function (text) {
        var json;
        try {
          json = JSON.parse(text);
        } catch (e) {
          throw new ApiError('client', 'HTTP ' + resp.status + ' from ' + path + ': ' + text.slice(0, 200));
        }
        if (json.status !== 'success') {
          throw new ApiError(json.errorType || 'unknown', json.error || ('HTTP ' + resp.status));
        }
        return json;
      });
    }, function (e) {
      throw new ApiError('network', String(e && e.message ? e.message : e));
    });
  }

  // ---------------------------------------------------------------------------------------
  // The expression box: auto-growing textarea with a backdrop that marks the error position.

  var expr = $('expr');
  var backdrop = $('expr-backdrop');

  function autoGrow() {
    expr.style.height = 'auto';
    expr.style.height = expr.scrollHeight + 'px';
  }

  function markError(pos) {
    clear(backdrop);
    expr.classList.toggle('has-error', !!pos);
    if (!pos) return;
    var q = expr.value;
    backdrop.appendChild(document.createTextNode(q.slice(0, pos.start)));
    var mark = el('mark', 'error-mark', pos.end > pos.start ? q.slice(pos.start, pos.end) : ' ');
    mark.title = 'line ' + pos.line + ', column ' + pos.column;
    backdrop.appendChild(mark);
    backdrop.appendChild(document.createTextNode(q.slice(pos.end) + '\n'));
    backdrop.scrollTop = expr.scrollTop;
  }

  expr.addEventListener('input', function () {
    markError(null);
    autoGrow();
  });
  expr.addEventListener('scroll', function () { backdrop.scrollTop = expr.scrollTop; });
  expr.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      run();
    }
  });
  $('query-form').addEventListener('submit', function (e) {
    e.preventDefault();
    run();
  });

  // The metric-name picker: filled from the API the first time it is opened; the chosen name
  // replaces the selection (or goes in at the cursor) in the expression box.
  var namesLoaded = false;

  function loadMetricNames() {
    if (namesLoaded) return Promise.resolve();
    namesLoaded = true;
    return api('api/v1/label/__name__/values').then(function (json) {
      var sel = $('metric-names');
      (json.data || []).forEach(function (name) {
        var o = el('option', null, name);
        o.value = name;
        sel.appendChild(o);
      });
    }, function () { namesLoaded = false; });
  }

  $('metric-names').addEventListener('focus', loadMetricNames);
  $('metric-names').addEventListener('mousedown', loadMetricNames);
  $('metric-names').addEventListener('change', function () {
    var name = this.value;
    this.selectedIndex = 0;
    if (!name) return;
    var a = expr.selectionStart;
    var b = expr.selectionEnd;
    expr.value = expr.value.slice(0, a) + name + expr.value.slice(b);
    expr.focus();
    expr.setSelectionRange(a + name.length, a + name.length);
    markError(null);
    autoGrow();
  });

  // ---------------------------------------------------------------------------------------
  // State kept in the URL (Prometheus's g0.* parameter names, so links are interchangeable).

  var state = { tab: 'table' };

  function readUrl() {
    var p = new URLSearchParams(window.location.search);
    if (p.has('g0.expr')) expr.value = p.get('g0.expr');
    if (p.get('g0.tab') === '0') state.tab = 'graph';
    var r = parseDuration(p.get('g0.range_input') || '');
    if (r !== null) setRange(r);
    if (p.has('g0.end_input')) $('end-time').value = p.get('g0.end_input');
    if (p.has('g0.step_input')) $('step').value = p.get('g0.step_input');
    if (p.has('g0.moment_input')) $('eval-time').value = p.get('g0.moment_input');
  }

  function writeUrl() {
    var p = new URLSearchParams();
    p.set('g0.expr', expr.value);
    p.set('g0.tab', state.tab === 'graph' ? '0' : '1');
    p.set('g0.range_input', formatDuration(parseFloat($('range').value)));
    if ($('end-time').value.trim()) p.set('g0.end_input', $('end-time').value.trim());
    if ($('step').value.trim()) p.set('g0.step_input', $('step').value.trim());
    if ($('eval-time').value.trim()) p.set('g0.moment_input', $('eval-time').value.trim());
    try {
      history.replaceState(null, '', '?' + p.toString() + window.location.hash);
    } catch (e) { /* file:// or sandboxed: the URL is only a convenience */ }
  }

  function setRange(sec) {
    var sel = $('range');
    var v = String(sec);
    var found = Array.prototype.some.call(sel.options, function (o) { return o.value === v; });
    if (!found) {
      // One custom range at a time, kept in order among the presets.
      Array.prototype.slice.call(sel.options).forEach(function (o) {
        if (o.dataset.custom) sel.removeChild(o);
      });
      var o = el('option', null, formatDuration(sec));
      o.value = v;
      o.dataset.custom = '1';
      var before = Array.prototype.find.call(sel.options, function (x) { return parseFloat(x.value) > sec; });
      sel.insertBefore(o, before || null);
    }
    sel.value = v;
  }

  // ---------------------------------------------------------------------------------------
  // Running a query.

  var seq = 0;

  function run() {
    // Sent as typed (not trimmed), so the error positions the API reports fit the box.
    var q = expr.value;
    markError(null);
    showError($('error'), null);
    showWarnings([]);
    if (q.trim() === '') return;
    writeUrl();
    var my = ++seq;
    var started = performance.now();
    $('stats').textContent = 'Loading…';
    document.body.classList.add('loading');
    var job = state.tab === 'graph' ? runRange(q) : runInstant(q);
    job.then(function (res) {
      if (my !== seq) return;
      var ms = Math.round(performance.now() - started);
      $('stats').textContent = 'Load time: ' + ms + ' ms' + (res.extra ? ' · ' + res.extra : '');
      var json = res.json;
      showWarnings((json.warnings || []).concat(json.infos || []));
    }, function (err) {
      if (my !== seq) return;
      $('stats').textContent = '';
      if (!(err instanceof ApiError)) err = new ApiError('client', String(err && err.message ? err.message : err));
      showError($('error'), err);
      if (expr.value === q) markError(errorPosition(err.message, q));
      if (state.tab === 'graph') clearGraph(); else clearTable();
    }).then(function () {
      if (my === seq) document.body.classList.remove('loading');
    });
  }

  function showWarnings(list) {
    var ul = $('warnings');
    clear(ul);
    list.forEach(function (w) { ul.appendChild(el('li', null, w)); });
    ul.hidden = list.length === 0;
  }

  // ---- Table --------------------------------------------------------------------------------

  var MAX_ROWS = 10000;

  function clearTable() {
    clear($('result-table').tBodies[0]);
    $('result-count').textContent = '';
  }

  function runInstant(q) {
    var params = { query: q };
    var t = parseTime($('eval-time').value);
    if (t === undefined) return Promise.reject(new ApiError('client', 'cannot read the evaluation time ' + JSON.stringify($('eval-time').value)));
    if (t !== null) params.time = String(t);
    return api('api/v1/query', params).then(function (json) {
      renderTable(json.data);
      return { json: json, extra: 'Result type: ' + json.data.resultType };
    });
  }

  function histogramText(h) {
    var v = h[1] || {};
    return 'histogram: count=' + v.count + ' sum=' + v.sum + ' (' + (v.buckets || []).length + ' buckets)';
  }

  function renderTable(data) {
    var body = $('result-table').tBodies[0];
    clear(body);
    var rows = [];
    var r = data.result;
    switch (data.resultType) {
      case 'vector':
        r.forEach(function (s) {
          rows.push([metricToString(s.metric), s.histogram ? histogramText(s.histogram) : s.value[1]]);
        });
        break;
      case 'matrix':
        r.forEach(function (s) {
          var vals = (s.values || []).map(function (p) { return p[1] + ' @' + p[0]; });
          (s.histograms || []).forEach(function (h) { vals.push(histogramText(h) + ' @' + h[0]); });
          var pre = el('pre', 'sample-list', vals.join('\n'));
          rows.push([metricToString(s.metric), pre]);
        });
        break;
      case 'scalar':
        rows.push(['scalar', r[1]]);
        break;
      case 'string':
        rows.push(['string', r[1]]);
        break;
      default:
        rows.push(['(' + data.resultType + ')', JSON.stringify(r)]);
    }
    var frag = document.createDocumentFragment();
    rows.slice(0, MAX_ROWS).forEach(function (cells) {
      var tr = row(cells);
      tr.className = 'result-row';
      frag.appendChild(tr);
    });
    if (rows.length === 0) {
      var tr = row(['Empty query result', '']);
      tr.className = 'empty';
      frag.appendChild(tr);
    }
    body.appendChild(frag);
    var n = rows.length;
    var text = n + (n === 1 ? ' result' : ' results');
    if (n > MAX_ROWS) text += ' (showing the first ' + MAX_ROWS + ')';
    $('result-count').textContent = text;
  }

  // ---- Graph --------------------------------------------------------------------------------

  var plot = null;
  var PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
    '#7f7f7f', '#bcbd22', '#17becf'];

  function color(i) {
    if (i < PALETTE.length) return PALETTE[i];
    return 'hsl(' + ((i * 137.508) % 360).toFixed(1) + ', 65%, 45%)';
  }

  function clearGraph() {
    if (plot) {
      plot.destroy();
      plot = null;
    }
    clear($('legend'));
    $('hover').textContent = '';
    $('step-used').textContent = '';
  }

  function runRange(q) {
    var range = parseFloat($('range').value);
    var endIn = parseTime($('end-time').value);
    if (endIn === undefined) return Promise.reject(new ApiError('client', 'cannot read the end time ' + JSON.stringify($('end-time').value)));
    var end = endIn === null ? Math.floor(Date.now() / 1000) : endIn;
    var start = end - range;
    var stepIn = $('step').value.trim();
    var step = stepIn === '' ? autoStep(range) : parseDuration(stepIn);
    if (step === null) return Promise.reject(new ApiError('client', 'cannot read the step ' + JSON.stringify(stepIn) + ' (a duration such as 15s or 1m)'));
    var params = { query: q, start: String(start), end: String(end), step: String(step) };
    return api('api/v1/query_range', params).then(function (json) {
      if (json.data.resultType !== 'matrix') {
        throw new ApiError('client', 'a range query returned ' + json.data.resultType + ', not a matrix');
      }
      drawGraph(json.data.result, start, end);
      $('step-used').textContent = 'resolution ' + formatDuration(step) + (stepIn === '' ? ' (auto)' : '');
      return { json: json, extra: json.data.result.length + ' series' };
    });
  }

  /** An x-axis tick in UTC, 24-hour: seconds for short ranges, the date for long ones. */
  function axisTime(t, range) {
    var iso = formatTime(Math.round(t));
    if (range <= 600) return iso.slice(11, 19);
    if (range < 2 * 86400) return iso.slice(11, 16);
    return iso.slice(5, 10) + ' ' + iso.slice(11, 16);
  }

  function toNumber(s) {
    var v = parseFloat(s);
    return isFinite(v) ? v : null;
  }

  function drawGraph(result, start, end) {
    clearGraph();
    var stamps = {};
    result.forEach(function (s) {
      (s.values || []).forEach(function (p) { stamps[p[0]] = true; });
    });
    var xs = Object.keys(stamps).map(Number).sort(function (a, b) { return a - b; });
    var index = {};
    xs.forEach(function (t, i) { index[t] = i; });
    var data = [xs];
    var series = [{}];
    result.forEach(function (s, i) {
      var ys = new Array(xs.length).fill(null);
      (s.values || []).forEach(function (p) { ys[index[p[0]]] = toNumber(p[1]); });
      data.push(ys);
      series.push({
        label: metricToString(s.metric),
        stroke: color(i),
        width: 1.5,
        spanGaps: false,
      });
    });

    var legend = $('legend');
    var valueCells = [];
    result.forEach(function (s, i) {
      var li = el('li', 'legend-item');
      li.dataset.series = String(i + 1);
      var sw = el('span', 'swatch');
      sw.style.background = color(i);
      li.appendChild(sw);
      li.appendChild(el('span', 'legend-label', metricToString(s.metric)));
      var val = el('span', 'legend-value');
      valueCells.push(val);
      li.appendChild(val);
      li.title = 'click to hide or show this series';
      li.addEventListener('click', function () {
        if (!plot) return;
        var idx = i + 1;
        var show = !plot.series[idx].show;
        plot.setSeries(idx, { show: show });
        li.classList.toggle('off', !show);
      });
      legend.appendChild(li);
    });
    if (result.length === 0) {
      legend.appendChild(el('li', 'empty', 'Empty query result'));
    }

    var chart = $('chart');
    var opts = {
      width: Math.max(chart.clientWidth, 300),
      height: 360,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      scales: { x: { time: true, range: [start, end] } },
      axes: [{ values: function (u, splits) { return splits.map(function (t) { return axisTime(t, end - start); }); } }, {}],
      series: series,
      legend: { show: false },
      // Dragging across the plot selects a time window, which becomes the new range and end.
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [function (u) {
          if (u.select.width < 5) return;
          var lo = Math.floor(u.posToVal(u.select.left, 'x'));
          var hi = Math.ceil(u.posToVal(u.select.left + u.select.width, 'x'));
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (hi - lo < 1) return;
          setRange(hi - lo);
          $('end-time').value = formatTime(hi);
          run();
        }],
        setCursor: [function (u) {
          var i = u.cursor.idx;
          if (i === null || i === undefined) {
            $('hover').textContent = '';
            valueCells.forEach(function (c) { c.textContent = ''; });
            return;
          }
          $('hover').textContent = formatTime(u.data[0][i]);
          valueCells.forEach(function (c, k) { c.textContent = formatNumber(u.data[k + 1][i]); });
        }],
      },
    };
    plot = new uPlot(opts, data, chart);
  }

  window.addEventListener('resize', function () {
    if (plot) plot.setSize({ width: Math.max($('chart').clientWidth, 300), height: 360 });
  });

  // ---- Tabs ---------------------------------------------------------------------------------

  function selectTab(tab, rerun) {
    state.tab = tab;
    ['table', 'graph'].forEach(function (t) {
      $('tab-' + t).classList.toggle('active', t === tab);
      $('tab-' + t).setAttribute('aria-selected', t === tab ? 'true' : 'false');
      $('panel-' + t).hidden = t !== tab;
    });
    if (rerun && expr.value.trim() !== '') run();
  }

  // Range and end-time steppers.
  function stepRange(delta) {
    var sel = $('range');
    var i = Math.min(Math.max(sel.selectedIndex + delta, 0), sel.options.length - 1);
    if (i === sel.selectedIndex) return;
    sel.selectedIndex = i;
    if (expr.value.trim() !== '') run();
  }

  function shiftEnd(direction) {
    var range = parseFloat($('range').value);
    var now = Math.floor(Date.now() / 1000);
    var cur = parseTime($('end-time').value);
    if (cur === undefined) return;
    var end = (cur === null ? now : cur) + direction * range / 2;
    $('end-time').value = end >= now ? '' : formatTime(end);
    if (expr.value.trim() !== '') run();
  }

  $('range-minus').addEventListener('click', function () { stepRange(-1); });
  $('range-plus').addEventListener('click', function () { stepRange(1); });
  $('end-back').addEventListener('click', function () { shiftEnd(-1); });
  $('end-forward').addEventListener('click', function () { shiftEnd(1); });

  $('tab-table').addEventListener('click', function () { selectTab('table', true); });
  $('tab-graph').addEventListener('click', function () { selectTab('graph', true); });
  ['range', 'end-time', 'step', 'eval-time'].forEach(function (id) {
    $(id).addEventListener('change', function () { if (expr.value.trim() !== '') run(); });
    $(id).addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        e.preventDefault();
        run();
      }
    });
  });

  // ---------------------------------------------------------------------------------------
  // Alerts and rules views.

  function labelsText(obj) {
    return Object.keys(obj || {}).sort().map(function (k) {
      return k + '=' + JSON.stringify(obj[k]);
    }).join(', ');
  }

  function loadAlerts() {
    var body = $('alerts-table').tBodies[0];
    return api('api/v1/alerts').then(function (json) {
      showError($('alerts-error'), null);
      clear(body);
      var alerts = json.data.alerts || [];
      alerts.forEach(function (a) {
        var badge = el('span', 'state state-' + a.state, a.state);
        var tr = row([badge, (a.labels || {}).alertname || '', labelsText(a.labels),
          labelsText(a.annotations), a.activeAt || '', a.value === undefined ? '' : String(a.value)]);
        tr.className = 'alert-row';
        body.appendChild(tr);
      });
      $('alerts-count').textContent = alerts.length + (alerts.length === 1 ? ' active alert' : ' active alerts');
    }, function (err) {
      clear(body);
      $('alerts-count').textContent = '';
      showError($('alerts-error'), err);
    });
  }

  function loadRules() {
    var box = $('rules-groups');
    return api('api/v1/rules').then(function (json) {
      showError($('rules-error'), null);
      clear(box);
      var groups = json.data.groups || [];
      var n = 0;
      groups.forEach(function (g) {
        var h = el('h3', 'rule-group', g.name);
        var meta = [];
        if (g.file) meta.push(g.file);
        if (g.interval !== undefined) meta.push('every ' + formatDuration(g.interval));
        if (g.lastEvaluation) meta.push('last evaluation ' + g.lastEvaluation);
        h.appendChild(el('span', 'hint', meta.join(' · ')));
        box.appendChild(h);
        var table = el('table', 'result-table rules-table');
        var head = el('thead');
        var htr = el('tr');
        ['Rule', 'Type', 'Query', 'Labels', 'State', 'Health', 'Last evaluation'].forEach(function (h) {
          htr.appendChild(el('th', null, h));
        });
        head.appendChild(htr);
        table.appendChild(head);
        var body = el('tbody');
        (g.rules || []).forEach(function (r) {
          n++;
          var health = r.health || '';
          if (r.lastError) health += ': ' + r.lastError;
          var stateText = r.type === 'alerting' ? (r.state || '') + ' (' + (r.alerts || []).length + ')' : '';
          var evaluated = r.lastEvaluation || '';
          if (typeof r.evaluationTime === 'number') evaluated += ' (took ' + (r.evaluationTime * 1000).toFixed(2) + ' ms)';
          var tr = row([r.name, r.type, el('code', null, r.query), labelsText(r.labels), stateText, health, evaluated]);
          tr.className = 'rule-row';
          body.appendChild(tr);
        });
        table.appendChild(body);
        box.appendChild(table);
      });
      $('rules-count').textContent = n + (n === 1 ? ' rule' : ' rules') + ' in ' + groups.length +
        (groups.length === 1 ? ' group' : ' groups');
    }, function (err) {
      clear(box);
      $('rules-count').textContent = '';
      showError($('rules-error'), err);
    });
  }

  function loadTargets() {
    var body = $('targets-table').tBodies[0];
    return api('api/v1/targets').then(function (json) {
      showError($('targets-error'), null);
      clear(body);
      var targets = json.data.activeTargets || [];
      targets.forEach(function (t) {
        var badge = el('span', 'state state-' + t.health, t.health);
        var dur = typeof t.lastScrapeDuration === 'number' ? (t.lastScrapeDuration * 1000).toFixed(1) + ' ms' : '';
        var tr = row([t.scrapeUrl || '', badge, labelsText(t.labels), t.lastScrape || '', dur, t.lastError || '']);
        tr.className = 'target-row';
        body.appendChild(tr);
      });
      var up = targets.filter(function (t) { return t.health === 'up'; }).length;
      $('targets-count').textContent = up + ' of ' + targets.length + (targets.length === 1 ? ' target' : ' targets') + ' up';
    }, function (err) {
      clear(body);
      $('targets-count').textContent = '';
      showError($('targets-error'), err);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Navigation between the query page and the two views (#alerts, #rules, or the paths
  // /alerts and /rules that serve the same page).

  function currentView() {
    var h = window.location.hash.replace('#', '');
    if (h === 'alerts' || h === 'rules' || h === 'targets' || h === 'query') return h;
    if (/\/alerts$/.test(window.location.pathname)) return 'alerts';
    if (/\/rules$/.test(window.location.pathname)) return 'rules';
    if (/\/targets$/.test(window.location.pathname)) return 'targets';
    return 'query';
  }

  function showView() {
    var v = currentView();
    ['query', 'alerts', 'rules', 'targets'].forEach(function (name) {
      $('view-' + name).hidden = name !== v;
      $('nav-' + name).classList.toggle('active', name === v);
    });
    if (v === 'alerts') loadAlerts();
    if (v === 'rules') loadRules();
    if (v === 'targets') loadTargets();
    if (v === 'query' && plot) plot.setSize({ width: Math.max($('chart').clientWidth, 300), height: 360 });
  }

  window.addEventListener('hashchange', showView);

  // The alerts, rules and targets views refresh themselves while shown.
  var REFRESH_MS = 15000;
  window.setInterval(function () {
    if (document.hidden) return;
    var v = currentView();
    if (v === 'alerts') loadAlerts();
    if (v === 'rules') loadRules();
    if (v === 'targets') loadTargets();
  }, REFRESH_MS);

  // ---------------------------------------------------------------------------------------
  // Start.

  window.promUI = {
    parseDuration: parseDuration,
    formatDuration: formatDuration,
    parseTime: parseTime,
    formatTime: formatTime,
    autoStep: autoStep,
    errorPosition: errorPosition,
    metricToString: metricToString,
    run: run,
    showView: showView,
    loadMetricNames: loadMetricNames,
    plot: function () { return plot; },
  };

  readUrl();
  selectTab(state.tab, false);
  showView();
  autoGrow();
  if (expr.value.trim() !== '' && currentView() === 'query') run();
  expr.focus();
})();
