// tickbench page: what a technique delivered. Per-symbol sequence checks (sseq), the resume
// cursor, the counters of window.tickbench.stats(), and a log-bucket latency histogram.
'use strict';
window.TB = window.TB || {};

// 32 sub-buckets per power of two (about 3% resolution), like an HdrHistogram with
// 1.5 significant digits. Values are whole microseconds; percentiles report a bucket's
// highest value, as HdrHistogram's valueAtPercentile does.
TB.Hist = class {
  constructor() { this.reset(); }
  reset() { this.counts = new Map(); this.n = 0; this.min = Infinity; this.max = 0; this.sum = 0; }
  static index(v) {
    if (v < 32) return v;
    const e = Math.floor(Math.log2(v));
    return (e - 4) * 32 + Math.floor(v / 2 ** (e - 5)) - 32;
  }
  static highest(i) {
    if (i < 32) return i;
    const e = Math.floor(i / 32) + 4;
    const w = 2 ** (e - 5);
    return (32 + (i % 32)) * w + w - 1;
  }
  record(us) {
    const v = Math.max(0, Math.round(us));
    const i = TB.Hist.index(v);
    this.counts.set(i, (this.counts.get(i) || 0) + 1);
    this.n += 1; this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  percentile(p) {
    if (this.n === 0) return 0;
    const want = Math.max(1, Math.ceil((p / 100) * this.n));
    const keys = [...this.counts.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.counts.get(k);
      if (seen >= want) return Math.min(TB.Hist.highest(k), this.max);
    }
    return this.max;
  }
  summary() {
    return {
      min: this.n ? this.min : 0, p50: this.percentile(50), p90: this.percentile(90),
      p99: this.percentile(99), p999: this.percentile(99.9), max: this.max,
      mean: this.n ? this.sum / this.n : 0, count: this.n,
    };
  }
};

// The browser clock in µs since the Unix epoch, sub-millisecond where the browser allows.
TB.nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

TB.Stats = class {
  constructor(technique) {
    this.technique = technique;
    this.sseq = new Map();   // symbol → last sseq seen (the baseline of the gap check)
    this.cursor = null;      // the `since` to resume from
    this.epoch = null;       // X-Tickbench-Epoch last seen
    this.hist = new TB.Hist();
    this.cspViolations = 0;
    this.lastError = '';
    this.inFlight = 0;
    this.zero();
  }
  // Counters back to zero (the cursor and baselines stay): the start of a measured window.
  zero() {
    this.delivered = 0; this.gaps = 0; this.duplicates = 0; this.outOfOrder = 0;
    this.gapNotices = 0; this.reconnects = 0; this.requests = 0; this.bytes = 0;
    this.errors = 0; this.empty = 0; this.hist.reset();
    this.startedAt = performance.now(); this.firstTickMs = null;
  }
  // One tick; true when it is new (to be shown), false for a duplicate or a late copy.
  tick(t) {
    const lat = TB.nowUs() - t.ts;
    if (this.cursor === null || t.seq + 1 > this.cursor) this.cursor = t.seq + 1;
    const last = this.sseq.get(t.sym);
    if (last !== undefined) {
      if (t.sseq === last) { this.duplicates += 1; return false; }
      if (t.sseq < last) { this.outOfOrder += 1; return false; }
      if (t.sseq > last + 1) this.gaps += t.sseq - last - 1;
    }
    this.sseq.set(t.sym, t.sseq);
    this.delivered += 1;
    this.hist.record(lat);
    if (this.firstTickMs === null) this.firstTickMs = performance.now() - this.startedAt;
    return true;
  }
  // A batch's `next`: the cursor moves past what the server scanned.
  advance(next) {
    if (typeof next === 'number' && (this.cursor === null || next > this.cursor)) this.cursor = next;
  }
  // A declared gap: loss the server owned up to; the baselines restart after it.
  gapNotice() { this.gapNotices += 1; this.sseq.clear(); }
  // The stream's epoch (X-Tickbench-Epoch): a different one is a different stream, so the
  // cursor and the baselines no longer mean anything.
  observeEpoch(e) {
    if (e === null || e === undefined || e === '') return;
    if (this.epoch !== null && this.epoch !== e) { this.cursor = 0; this.sseq.clear(); }
    this.epoch = e;
  }
  json(protocol) {
    return {
      technique: this.technique, protocol,
      elapsed_s: (performance.now() - this.startedAt) / 1000,
      delivered: this.delivered, gaps: this.gaps, duplicates: this.duplicates,
      out_of_order: this.outOfOrder, gap_notices: this.gapNotices, reconnects: this.reconnects,
      requests: this.requests, bytes: this.bytes, errors: this.errors + this.cspViolations,
      csp_violations: this.cspViolations, empty_responses: this.empty, in_flight: this.inFlight,
      last_error: this.lastError, cursor: this.cursor, first_tick_ms: this.firstTickMs,
      latency_us: this.hist.summary(),
    };
  }
};
