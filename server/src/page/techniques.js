// tickbench page: each technique as a browser of its era implements it. Each takes the page's
// context `c` (cursor, checks, counters: see app.js) and returns { stop() }.
'use strict';
window.TB = window.TB || {};

const RETRY_MS = 500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// NDJSON lines → frames (ticks or control objects); keeps a partial last line.
function ndjson(c) {
  let buf = '';
  return (text) => {
    buf += text;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) c.frame(c.parse(line));
    }
  };
}

// multipart/x-mixed-replace parts (boundary `tickbench`, each with a Content-Length) → frames.
function multipart(c) {
  let buf = '';
  return (text) => {
    buf += text;
    for (;;) {
      const b = buf.indexOf('--tickbench');
      if (b < 0) return;
      if (buf.startsWith('--tickbench--', b)) { buf = ''; return; }
      const h = buf.indexOf('\r\n\r\n', b);
      if (h < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(buf.slice(b, h));
      if (!m) { c.error('multipart part without Content-Length'); buf = buf.slice(h + 4); continue; }
      const len = Number(m[1]);
      if (buf.length < h + 4 + len) return;
      const body = buf.slice(h + 4, h + 4 + len);
      buf = buf.slice(h + 4 + len);
      c.frame(c.parse(body));
    }
  };
}

// One GET with XMLHttpRequest whose answer is a batch; `then(ok)` after it is applied.
function xhrBatch(c, url, timeoutMs, then) {
  const xhr = new XMLHttpRequest();
  xhr.open('GET', url);
  if (timeoutMs) xhr.timeout = timeoutMs;
  xhr.onload = () => {
    c.done();
    c.bytes(xhr.responseText.length);
    if (xhr.status !== 200) { c.error('GET ' + url.split('?')[0] + ' answered ' + xhr.status); then(false); return; }
    c.opened(xhr.getResponseHeader('X-Tickbench-Epoch'));
    const b = c.parse(xhr.responseText);
    if (b) c.batch(b);
    then(!!b);
  };
  xhr.onerror = xhr.ontimeout = () => { c.done(); c.lost('GET ' + url.split('?')[0] + ' failed'); then(false); };
  c.request();
  xhr.send();
  return xhr;
}

// A response body read chunk by chunk through fetch's stream reader, reconnecting by cursor.
function fetchStream(c, path, makeParser) {
  let stopped = false;
  let ctrl = null;
  (async () => {
    while (!stopped) {
      ctrl = new AbortController();
      c.request();
      try {
        const r = await fetch(c.q(path), { signal: ctrl.signal, cache: 'no-store' });
        if (!r.ok) {
          c.error('GET ' + path + ' answered ' + r.status);
        } else {
          c.opened(r.headers.get('X-Tickbench-Epoch'));
          const reader = r.body.getReader();
          const dec = new TextDecoder();
          const parse = makeParser(c);
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            c.bytes(value.length);
            parse(dec.decode(value, { stream: true }));
          }
          c.lost(path + ' ended');
        }
      } catch (e) {
        if (stopped) return;
        c.lost(path + ': ' + e.message);
      } finally {
        c.done();
      }
      if (!stopped) await sleep(RETRY_MS);
    }
  })();
  return { stop() { stopped = true; if (ctrl) ctrl.abort(); } };
}

TB.techniques = {
  poll: {
    desc: 'XMLHttpRequest to /poll every interval; each answer is a batch and its `next` cursor.',
    start(c) {
      let xhr = null;
      const beat = () => { if (!xhr) xhr = xhrBatch(c, c.q('/poll'), 10000, () => { xhr = null; }); };
      beat();
      const timer = setInterval(beat, c.params.interval);
      return { stop() { clearInterval(timer); if (xhr) xhr.abort(); } };
    },
  },

  jsonp: {
    desc: 'A <script src="/poll?callback=tbJsonp"> inserted every interval; the script calls tbJsonp(batch). Same-origin scripts only, so the CSP allows it.',
    start(c) {
      let pending = null;
      let n = 0;
      window.tbJsonp = (b) => { c.opened(null); c.batch(b); };
      const beat = () => {
        if (pending) return;
        const s = document.createElement('script');
        const src = new URL(c.q('/poll', { callback: 'tbJsonp', _: ++n }), location.href).href;
        const finish = (ok) => {
          s.remove(); pending = null; c.done();
          const e = performance.getEntriesByName(src).pop();
          if (e) c.bytes(e.decodedBodySize || e.encodedBodySize || 0);
          if (performance.getEntriesByType('resource').length > 200) performance.clearResourceTimings();
          if (!ok) c.lost('JSONP script failed to load');
        };
        s.onload = () => finish(true);
        s.onerror = () => finish(false);
        s.src = src;
        pending = s;
        c.request();
        document.head.appendChild(s);
      };
      beat();
      const timer = setInterval(beat, c.params.interval);
      return { stop() { clearInterval(timer); } };
    },
  },

  piggyback: {
    desc: 'No request of its own: quote lookups (GET /api/quote/SYM) and orders (POST /api/orders) carry the ticks back. Use the forms, or let the simulated schedule act for you.',
    start(c) {
      const el = (id) => document.getElementById(id);
      let busy = false;
      let k = 0;
      async function call(method, path, body) {
        c.request();
        try {
          const r = await fetch(c.q(path), {
            method, cache: 'no-store',
            headers: body ? { 'Content-Type': 'application/json' } : {},
            body: body ? JSON.stringify(body) : undefined,
          });
          const text = await r.text();
          c.bytes(text.length);
          if (!r.ok) { c.error(method + ' ' + path + ' answered ' + r.status); return null; }
          c.opened(r.headers.get('X-Tickbench-Epoch'));
          const j = c.parse(text);
          if (j) c.batch(j);
          return j;
        } catch (e) {
          c.lost(method + ' ' + path + ': ' + e.message);
          return null;
        } finally {
          c.done();
        }
      }
      async function lookup(sym) {
        const j = await call('GET', '/api/quote/' + encodeURIComponent(sym));
        if (j && j.quote) {
          el('lookup-result').textContent = j.quote.sym + ' ' + j.quote.last.toFixed(2) +
            ' (bid ' + j.quote.bid.toFixed(2) + ' / ask ' + j.quote.ask.toFixed(2) + ', volume ' + j.quote.volume + ')';
        }
      }
      async function order(sym, side, qty) {
        const j = await call('POST', '/api/orders', { sym, side, qty });
        if (j && j.order) {
          const li = document.createElement('li');
          li.textContent = '#' + j.order.id + ' ' + j.order.side + ' ' + j.order.qty + ' ' + j.order.sym + ': ' + j.order.status;
          const list = el('orders');
          list.prepend(li);
          while (list.children.length > 8) list.lastChild.remove();
        }
      }
      el('actions').hidden = false;
      for (const s of c.params.symbols) {
        const o = document.createElement('option');
        o.textContent = s;
        el('order-sym').appendChild(o);
      }
      el('lookup-sym').value = c.params.symbols[0] || '';
      el('lookup').onsubmit = (e) => { e.preventDefault(); lookup(el('lookup-sym').value.trim()); };
      el('order').onsubmit = (e) => { e.preventDefault(); order(el('order-sym').value, el('order-side').value, Number(el('order-qty').value)); };
      el('auto-rate').textContent = String(c.params.actions);
      el('auto').checked = c.params.actions > 0;
      // The simulated user: one action at a time, nine quote lookups to one order.
      const act = async () => {
        if (busy || !el('auto').checked) return;
        busy = true;
        const syms = c.params.symbols;
        const sym = syms[k % syms.length];
        k += 1;
        try {
          if (k % 10 === 0) await order(sym, k % 20 === 0 ? 'sell' : 'buy', 100);
          else await lookup(sym);
        } finally { busy = false; }
      };
      const timer = c.params.actions > 0 ? setInterval(act, 1000 / c.params.actions) : null;
      if (timer) act();
      return { stop() { if (timer) clearInterval(timer); } };
    },
  },

  longpoll: {
    desc: 'XMLHttpRequest to /longpoll, held by the server until a tick matches, re-issued at once with the answer\'s cursor.',
    start(c) {
      let stopped = false;
      let xhr = null;
      let timer = null;
      const go = () => {
        if (stopped) return;
        xhr = xhrBatch(c, c.q('/longpoll', { timeout: c.params.timeout }), (c.params.timeout + 10) * 1000,
          (ok) => { if (ok) go(); else timer = setTimeout(go, RETRY_MS); });
      };
      go();
      return { stop() { stopped = true; clearTimeout(timer); if (xhr) xhr.abort(); } };
    },
  },

  stream: {
    desc: 'fetch(\'/stream\') read through response.body.getReader(): NDJSON, one tick per line, on one open response.',
    start(c) { return fetchStream(c, '/stream', ndjson); },
  },

  'stream-xhr': {
    desc: 'The historical streaming XHR: /stream read from responseText at readyState 3 (onprogress). responseText only grows, so the page starts a fresh request after 4 MB.',
    start(c) {
      const RECYCLE = 4 << 20;
      let stopped = false;
      let xhr = null;
      let timer = null;
      const go = () => {
        if (stopped) return;
        const x = new XMLHttpRequest();
        xhr = x;
        let pos = 0;
        let recycling = false;
        const parse = ndjson(c);
        const drain = () => {
          if (x.status !== 200) return;
          const t = x.responseText;
          if (t.length > pos) {
            const chunk = t.slice(pos);
            pos = t.length;
            c.bytes(chunk.length);
            parse(chunk);
          }
          if (pos > RECYCLE && !recycling) { recycling = true; x.abort(); }
        };
        x.open('GET', c.q('/stream'));
        x.onreadystatechange = () => {
          if (x.readyState === 2) {
            if (x.status === 200) c.opened(x.getResponseHeader('X-Tickbench-Epoch'));
            else c.error('GET /stream answered ' + x.status);
          }
          if (x.readyState === 3) drain();
        };
        x.onprogress = drain;
        x.onloadend = () => {
          drain();
          c.done();
          if (stopped) return;
          if (recycling) { go(); return; }
          c.lost('/stream ended');
          timer = setTimeout(go, RETRY_MS);
        };
        c.request();
        x.send();
      };
      go();
      return { stop() { stopped = true; clearTimeout(timer); if (xhr) xhr.abort(); } };
    },
  },

  sse: {
    desc: 'EventSource(\'/sse\'): the browser parses the events and reconnects by itself, sending Last-Event-ID so the stream resumes after the last tick.',
    start(c) {
      let stopped = false;
      let es = null;
      let timer = null;
      const open = () => {
        c.request();
        es = new EventSource(c.q('/sse'));
        es.onopen = () => c.opened(null);
        // Bytes as framed on the wire: `id: N`, `data: JSON`, a blank line.
        es.onmessage = (e) => { c.bytes(e.data.length + e.lastEventId.length + 12); c.frame(c.parse(e.data)); };
        es.addEventListener('gap', (e) => { c.bytes(e.data.length + 19); const g = c.parse(e.data); if (g) c.gap(g); });
        es.addEventListener('bye', (e) => { c.bytes(e.data.length + 18); c.note('bye: ' + e.data); });
        es.onerror = () => {
          if (stopped) return;
          c.lost('EventSource error');
          if (es.readyState === EventSource.CLOSED) {
            // The browser gave up (an error status): resume by cursor with a new EventSource.
            c.done();
            timer = setTimeout(open, RETRY_MS);
          } else {
            c.request(); // the browser's own reconnect, with Last-Event-ID
          }
        };
      };
      open();
      return { stop() { stopped = true; clearTimeout(timer); if (es) es.close(); } };
    },
  },

  multipart: {
    desc: 'fetch(\'/multipart\') read through a stream reader: multipart/x-mixed-replace, one part per tick, split on the boundary and each part\'s Content-Length.',
    start(c) { return fetchStream(c, '/multipart', multipart); },
  },

  iframe: {
    desc: 'A hidden <iframe src="/iframe"> that never finishes loading: each script chunk calls parent.tick(..) in this page. When the document ends, a new frame resumes from the cursor.',
    start(c) {
      let stopped = false;
      let frame = null;
      let timer = null;
      let live = false;
      // Bytes as framed on the wire: <script>parent.tick(JSON);</script>
      window.tick = (t) => { if (!live) { live = true; c.opened(null); } c.bytes(JSON.stringify(t).length + 30); c.tick(t); };
      window.gap = (g) => { c.gap(g); };
      window.hb = () => {};
      window.bye = (reason) => { c.note('bye: ' + reason); };
      const open = () => {
        if (stopped) return;
        live = false;
        c.request();
        frame = document.createElement('iframe');
        frame.className = 'forever';
        frame.title = 'forever iframe';
        frame.src = c.q('/iframe');
        frame.addEventListener('load', () => {
          c.done();
          if (stopped) return;
          frame.remove();
          c.lost('iframe document ended');
          timer = setTimeout(open, RETRY_MS);
        });
        document.body.appendChild(frame);
      };
      open();
      return { stop() { stopped = true; clearTimeout(timer); if (frame) frame.remove(); } };
    },
  },

  ws: {
    desc: 'WebSocket(\'/ws\'): one text frame per tick (control frames for gap, heartbeat, bye); a dropped socket reconnects with ?since= the cursor.',
    start(c) {
      let stopped = false;
      let ws = null;
      let timer = null;
      const open = () => {
        if (stopped) return;
        c.request();
        const u = new URL(c.q('/ws'), location.href);
        u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
        ws = new WebSocket(u.href);
        let up = false;
        ws.onopen = () => { up = true; c.opened(null); };
        ws.onmessage = (e) => { c.bytes(e.data.length); c.frame(c.parse(e.data)); };
        ws.onclose = (e) => {
          c.done();
          if (stopped) return;
          c.lost('WebSocket ' + (up ? 'closed ' : 'failed ') + e.code + (e.reason ? ' ' + e.reason : ''));
          timer = setTimeout(open, RETRY_MS);
        };
      };
      open();
      return { stop() { stopped = true; clearTimeout(timer); if (ws) ws.close(1000, 'page closed'); } };
    },
  },
};
