// tickbench page: the compare view, every technique at once in one page (one frame each), and
// which of them stall because they wait for one of the browser's connections to this origin.
'use strict';
window.TB = window.TB || {};

// Techniques that keep an HTTP connection busy all the time (a held request or an open
// response). A WebSocket is pooled apart from HTTP connections, so it is not one of them.
TB.HOLDS_CONNECTION = ['longpoll', 'stream', 'stream-xhr', 'sse', 'multipart', 'iframe'];
// How long a technique may go without a tick before the view calls it stalled.
const STALL_MS = 5000;

TB.compare = function (el, q, protocol, cspViolations) {
  el('compare').hidden = false;
  const started = performance.now();
  // Each technique in `tabs` frames, as a user with that many tabs of one site open: the frames
  // share the browser's connections to this origin the way tabs do.
  const tabs = Math.min(4, Math.max(1, Number(q.get('tabs')) || 2));
  const names = [];
  for (let i = 1; i <= tabs; i++) for (const n of Object.keys(TB.techniques)) names.push(i === 1 ? n : n + '#' + i);
  const keep = q.get('symbols') ? '&symbols=' + encodeURIComponent(q.get('symbols')) : '';
  const frames = new Map();
  const rows = new Map();
  const body = el('compare-table').tBodies[0];
  for (const name of names) {
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = name;
    const f = document.createElement('iframe');
    f.title = name;
    f.src = '/?transport=' + encodeURIComponent(name.split('#')[0]) + '&embed=1' + keep;
    fig.append(cap, f);
    el('frames').appendChild(fig);
    frames.set(name, f);
    const tr = body.insertRow();
    for (let i = 0; i < 6; i++) tr.insertCell();
    tr.cells[0].textContent = name;
    rows.set(name, tr);
  }
  const last = new Map(); // name → [delivered, when it last grew]

  function read(name) {
    try {
      const w = frames.get(name).contentWindow;
      return w && w.tickbench ? w.tickbench.stats() : null;
    } catch (_) { return null; }
  }

  function state() {
    const now = performance.now();
    const out = {};
    const stalled = [];
    for (const name of names) {
      const s = read(name);
      out[name] = s;
      const delivered = s ? s.delivered : 0;
      const prev = last.get(name);
      if (!prev || delivered > prev[0]) last.set(name, [delivered, now]);
      const quietFor = now - last.get(name)[1];
      if (now - started > STALL_MS && quietFor > STALL_MS) stalled.push(name);
    }
    return { out, stalled };
  }

  function explain(stalled) {
    const p = protocol();
    if (stalled.length === 0) {
      return p === 'h2'
        ? 'Over HTTP/2 every technique shares one multiplexed connection: nothing waits for a connection.'
        : 'Every technique is receiving ticks.';
    }
    const holding = names.filter((n) => TB.HOLDS_CONNECTION.includes(n.split('#')[0]));
    const holders = holding.filter((n) => !stalled.includes(n));
    if (p === 'http/1.1') {
      return 'Stalled: ' + stalled.join(', ') + '. Over HTTP/1.1 Chromium opens at most 6 connections per host, and ' +
        holding.length + ' frames here (' + tabs + ' tabs of ' + TB.HOLDS_CONNECTION.join(', ') + ') each want one for good. ' +
        (holders.length ? 'Those holding connections now: ' + holders.join(', ') + '. ' : '') +
        'The stalled ones\' requests (and frame loads) wait in the browser\'s queue for a connection that never frees up. ' +
        'WebSockets are pooled apart, so ws keeps flowing. Over HTTP/2 (serve --tls) all of them share one connection.';
    }
    return 'Stalled: ' + stalled.join(', ') + ' (page loaded over ' + p + ').';
  }

  function render() {
    const { out, stalled } = state();
    for (const name of names) {
      const s = out[name];
      const tr = rows.get(name);
      tr.cells[1].textContent = s ? String(s.delivered) : '-';
      tr.cells[2].textContent = s ? (s.latency_us.p50 / 1000).toFixed(1) : '-';
      tr.cells[3].textContent = s ? (s.latency_us.p99 / 1000).toFixed(1) : '-';
      tr.cells[4].textContent = s ? String(s.requests) : '-';
      const isStalled = stalled.includes(name);
      tr.cells[5].textContent = isStalled ? (s ? 'stalled: waiting for a connection' : 'stalled: its page never loaded') : (s && s.delivered ? 'flowing' : 'starting');
      tr.cells[5].className = isStalled ? 'stalled' : s && s.delivered ? 'flowing' : '';
    }
    el('compare-note').textContent = explain(stalled);
  }

  window.tickbench = {
    ready: true,
    view: 'compare',
    stats() {
      const { out, stalled } = state();
      return {
        view: 'compare', protocol: protocol(), elapsed_s: (performance.now() - started) / 1000,
        stalled, csp_violations: cspViolations(), techniques: out, note: explain(stalled),
      };
    },
    reset() {},
  };
  setInterval(render, 1000);
};
