// tickbench page: the ticker board (symbol, last, change, bid/ask, sparkline). Tick data only
// ever reaches the document as textContent or canvas pixels, never as HTML.
'use strict';
window.TB = window.TB || {};

TB.Board = class {
  constructor(tbody, symbols) {
    this.rows = new Map();
    for (const sym of symbols) {
      const tr = document.createElement('tr');
      const cell = (cls) => { const td = document.createElement('td'); if (cls) td.className = cls; tr.appendChild(td); return td; };
      const row = { sym: cell('sym'), last: cell(), change: cell(), bid: cell(), ask: cell(), spark: null,
        open: null, q: null, points: [], dirty: true, tr };
      row.sym.textContent = sym;
      const canvas = document.createElement('canvas');
      canvas.className = 'spark'; canvas.width = 100; canvas.height = 22;
      cell().appendChild(canvas);
      row.spark = canvas;
      tbody.appendChild(tr);
      this.rows.set(sym, row);
    }
    this.timer = setInterval(() => this.render(), 250);
  }
  // The starting quote (from /snapshot).
  quote(q) {
    const row = this.rows.get(q.sym);
    if (!row) return;
    row.open = q.open; row.q = { last: q.last, bid: q.bid, ask: q.ask };
    row.points.push(q.last); row.dirty = true;
  }
  tick(t) {
    const row = this.rows.get(t.sym);
    if (!row) return;
    if (row.open === null) row.open = t.last;
    row.q = { last: t.last, bid: t.bid, ask: t.ask };
    row.points.push(t.last);
    if (row.points.length > 60) row.points.shift();
    row.dirty = true;
  }
  render() {
    for (const row of this.rows.values()) {
      if (!row.dirty || !row.q) continue;
      row.dirty = false;
      row.last.textContent = row.q.last.toFixed(2);
      row.bid.textContent = row.q.bid.toFixed(2);
      row.ask.textContent = row.q.ask.toFixed(2);
      const ch = row.q.last - row.open;
      const pct = row.open ? (100 * ch) / row.open : 0;
      row.change.textContent = (ch >= 0 ? '+' : '') + ch.toFixed(2) + ' (' + pct.toFixed(2) + '%)';
      row.change.className = ch > 0 ? 'up' : ch < 0 ? 'down' : '';
      this.spark(row);
    }
  }
  spark(row) {
    const c = row.spark.getContext('2d');
    const p = row.points;
    c.clearRect(0, 0, row.spark.width, row.spark.height);
    if (p.length < 2) return;
    const lo = Math.min(...p), hi = Math.max(...p), span = hi - lo || 1;
    c.strokeStyle = p[p.length - 1] >= p[0] ? '#3fb950' : '#f85149';
    c.lineWidth = 1.5;
    c.beginPath();
    p.forEach((v, i) => {
      const x = (i / (p.length - 1)) * (row.spark.width - 2) + 1;
      const y = row.spark.height - 2 - ((v - lo) / span) * (row.spark.height - 4);
      if (i === 0) c.moveTo(x, y); else c.lineTo(x, y);
    });
    c.stroke();
  }
};
