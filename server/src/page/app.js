// tickbench page: reads the query (?transport=NAME&symbols=..., or ?view=compare), loads the
// starting quotes, runs one technique into the board, and exposes window.tickbench.
'use strict';
window.TB = window.TB || {};

(function () {
  const el = (id) => document.getElementById(id);
  const q = new URLSearchParams(location.search);
  const num = (name, dflt) => { const v = Number(q.get(name)); return q.has(name) && Number.isFinite(v) && v >= 0 ? v : dflt; };
  const status = (text, bad) => { el('status').textContent = text; el('status').className = bad ? 'error' : ''; };
  const protocol = () => {
    const nav = performance.getEntriesByType('navigation')[0];
    return (nav && nav.nextHopProtocol) || 'unknown';
  };
  let stats = null;
  let cspViolations = 0;
  document.addEventListener('securitypolicyviolation', (e) => {
    cspViolations += 1;
    if (stats) { stats.cspViolations = cspViolations; stats.lastError = 'CSP blocked ' + e.blockedURI; }
  });
  if (q.get('embed') === '1') document.body.classList.add('embed');

  // The technique links keep the watchlist.
  function nav(current, symbols) {
    const keep = symbols ? '&symbols=' + encodeURIComponent(symbols.join(',')) : '';
    for (const name of [...Object.keys(TB.techniques), 'compare']) {
      const a = document.createElement('a');
      a.textContent = name;
      a.href = name === 'compare' ? '/?view=compare' + keep : '/?transport=' + encodeURIComponent(name) + keep;
      if (name === current) a.className = 'current';
      el('nav').appendChild(a);
    }
    el('proto').textContent = protocol();
  }

  async function json(url) {
    const r = await fetch(url, { cache: 'no-store' });
    const text = await r.text();
    let body = null;
    try { body = JSON.parse(text); } catch (_) { /* not JSON: reported below */ }
    if (!r.ok || body === null) throw new Error(url.split('?')[0] + ' answered ' + r.status + (body && body.error ? ': ' + body.error : ''));
    return body;
  }

  // The watchlist: ?symbols=, or the 10 most popular.
  async function watchlist() {
    if (q.get('symbols')) return q.get('symbols').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
    const s = await json('/symbols');
    return s.symbols.slice(0, 10).map((x) => x.sym);
  }

  function statsTable(s) {
    const rows = [
      ['delivered', s.delivered], ['gaps', s.gaps, s.gaps > 0], ['duplicates', s.duplicates, s.duplicates > 0],
      ['out of order', s.out_of_order, s.out_of_order > 0], ['gap notices', s.gap_notices, s.gap_notices > 0],
      ['reconnects', s.reconnects], ['requests', s.requests], ['bytes', s.bytes],
      ['latency p50', (s.latency_us.p50 / 1000).toFixed(1) + ' ms'], ['latency p90', (s.latency_us.p90 / 1000).toFixed(1) + ' ms'],
      ['latency p99', (s.latency_us.p99 / 1000).toFixed(1) + ' ms'], ['latency max', (s.latency_us.max / 1000).toFixed(1) + ' ms'],
      ['errors', s.errors, s.errors > 0], ['cursor (since)', s.cursor],
    ];
    const body = el('stats').tBodies[0];
    while (body.rows.length < rows.length) {
      const tr = body.insertRow();
      tr.insertCell(); tr.insertCell();
    }
    rows.forEach(([k, v, bad], i) => {
      const tr = body.rows[i];
      tr.className = bad ? 'bad' : '';
      tr.cells[0].textContent = k;
      tr.cells[1].textContent = String(v);
    });
  }

  async function single(name) {
    const technique = TB.techniques[name];
    el('single').hidden = false;
    el('tech-name').textContent = name;
    if (!technique) {
      status('unknown technique ' + name + '; pick one above', true);
      nav(null, null);
      return;
    }
    stats = new TB.Stats(name);
    window.tickbench = { ready: false, technique: name, stats: () => stats.json(protocol()), reset: () => stats.zero() };
    el('tech-desc').textContent = technique.desc;
    let symbols;
    try { symbols = await watchlist(); } catch (e) { status(e.message, true); return; }
    nav(name, q.get('symbols') ? symbols : null);
    const board = new TB.Board(el('rows'), symbols);
    // Start from a snapshot: its quotes fill the board and set each symbol's sseq baseline,
    // and its `next` is the cursor the technique starts at, so nothing is missed in between.
    try {
      const snap = await json('/snapshot?symbols=' + encodeURIComponent(symbols.join(',')));
      for (const qt of snap.quotes) { board.quote(qt); stats.sseq.set(qt.sym, qt.sseq); }
      stats.cursor = snap.next;
    } catch (e) { status(e.message, true); return; }
    let down = false;
    const params = { symbols, interval: num('interval', 1000), actions: num('actions', 1), timeout: num('timeout', 30) || 30 };
    const c = {
      params,
      q(path, extra) {
        const u = new URLSearchParams();
        if (stats.cursor !== null) u.set('since', String(stats.cursor));
        u.set('symbols', symbols.join(','));
        for (const [k, v] of Object.entries(extra || {})) u.set(k, String(v));
        return path + '?' + u;
      },
      request() { stats.requests += 1; stats.inFlight += 1; },
      done() { stats.inFlight = Math.max(0, stats.inFlight - 1); },
      bytes(n) { stats.bytes += n; },
      // An answer or an open stream: the first after a loss is a reconnect.
      opened(epoch) { if (down) { stats.reconnects += 1; down = false; } stats.observeEpoch(epoch); },
      lost(reason) { down = true; stats.lastError = reason; },
      error(reason) { stats.errors += 1; c.lost(reason); },
      note(text) { status(text); },
      parse(text) { try { return JSON.parse(text); } catch (_) { c.error('not JSON: ' + text.slice(0, 40)); return null; } },
      tick(t) { if (stats.tick(t)) board.tick(t); },
      gap(g) { stats.gapNotice(g); status('gap notice: ticks ' + g.from + '..' + g.to + ' are gone'); },
      batch(b) {
        if (b.gap) c.gap(b.gap);
        if (!b.ticks || b.ticks.length === 0) stats.empty += 1;
        for (const t of b.ticks || []) c.tick(t);
        stats.advance(b.next);
      },
      // A stream frame: a tick, a control object, or (WebSocket catch-up) several of them.
      frame(f) {
        if (f === null || typeof f !== 'object') return;
        if (Array.isArray(f)) { for (const x of f) c.frame(x); return; }
        if (typeof f.seq === 'number') c.tick(f);
        else if (Array.isArray(f.ticks)) c.batch(f);
        else if (f.gap) c.gap(f.gap);
        else if (f.bye !== undefined) c.note('bye: ' + f.bye);
        else if (f.heartbeat === undefined) c.error('unknown frame');
      },
    };
    const running = technique.start(c);
    window.tickbench.stop = () => running.stop();
    window.tickbench.ready = true;
    status('watching ' + symbols.length + ' symbols from seq ' + stats.cursor + ' over ' + protocol());
    setInterval(() => statsTable(stats.json(protocol())), 500);
  }

  if (q.get('view') === 'compare') {
    nav('compare', q.get('symbols') ? q.get('symbols').split(',') : null);
    TB.compare(el, q, protocol, () => cspViolations);
  } else {
    single(q.get('transport') || 'sse');
  }
})();
