/**
 * The demo's statistics, with no DOM: a histogram of time errors and TDEV
 * (ITU-T G.810, NIST SP 1065), over the steady state of each clock.
 */

export interface Histogram {
  /** Bin edges, bins + 1 of them, symmetric around 0: -halfWidth ... +halfWidth. */
  edges: number[];
  counts: number[];
  /** Samples below -halfWidth and above +halfWidth. */
  under: number;
  over: number;
}

/**
 * Counts of `xs` in `bins` equal bins over [-halfWidth, +halfWidth]. Each bin
 * is [lo, hi), the last one [lo, hi], so every |x| <= halfWidth is in a bin.
 */
export function histogram(xs: ArrayLike<number>, halfWidth: number, bins: number): Histogram {
  const w = (2 * halfWidth) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, k) => -halfWidth + k * w);
  const counts = new Array<number>(bins).fill(0);
  let under = 0;
  let over = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (x < -halfWidth) under++;
    else if (x > halfWidth) over++;
    else counts[Math.min(bins - 1, Math.floor((x + halfWidth) / w))]++;
  }
  return { edges, counts, under, over };
}

/** The smallest 1, 2, 3 or 5 × 10^k at or above v (bins that do not move with every new sample). */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 3, 5, 10]) if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/**
 * A histogram's half width over several series pooled: the 99th percentile of
 * |x| rounded up to a 1-2-3-5 step (at least 1), so a few outliers land
 * outside instead of squeezing every bin. It walks up the steps counting, not
 * sorting: the smallest step with more than q·(N−1) samples at or below it.
 */
export function halfWidthFor(series: ArrayLike<number>[], quantile = 0.99): number {
  const a = new Float64Array(series.reduce((n, xs) => n + xs.length, 0));
  let k = 0;
  for (const xs of series) for (let i = 0; i < xs.length; i++) a[k++] = Math.abs(xs[i]);
  const need = Math.floor(quantile * (a.length - 1)) + 1;
  let c = 1;
  for (;;) {
    let n = 0;
    for (let i = 0; i < a.length; i++) if (a[i] <= c) n++;
    if (n >= need || !Number.isFinite(c)) return c;
    c = niceCeil(c * 1.01);
  }
}

export interface TdevPoint {
  /** n · tau0 */
  tau: number;
  n: number;
  tdev: number;
}

/**
 * TDEV of time-error samples `x` taken every `tau0`, at tau = n·tau0 for
 * n = 1, 2, 4, ... while 3n <= N:
 *   TDEV²(nτ0) = 1/(6n²(N−3n+1)) Σ_j [Σ_{i=j}^{n+j−1} (x_{i+2n} − 2x_{i+n} + x_i)]²
 * The inner sum is P[j+3n] − 3P[j+2n] + 3P[j+n] − P[j] over prefix sums P,
 * so each tau costs O(N), not O(N·n).
 */
export function tdev(x: ArrayLike<number>, tau0: number): TdevPoint[] {
  const N = x.length;
  const P = new Float64Array(N + 1);
  // Relative to x[0]: the prefix sums stay small (a constant offset is exactly removed anyway).
  for (let i = 0; i < N; i++) P[i + 1] = P[i] + (x[i] - x[0]);
  const out: TdevPoint[] = [];
  for (let n = 1; 3 * n <= N; n *= 2) {
    const m = N - 3 * n + 1;
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const s = P[j + 3 * n] - 3 * P[j + 2 * n] + 3 * P[j + n] - P[j];
      sum += s * s;
    }
    out.push({ tau: n * tau0, n, tdev: Math.sqrt(sum / (6 * n * n * m)) });
  }
  return out;
}

/**
 * One clock's steady state: its time error every `tau0`, kept while its
 * servos stay locked. An unlock, a missing value or a gap in the sampling
 * starts it again (TDEV needs one unbroken, evenly spaced series); the first
 * `settle` locked samples are left out (the servo is still converging).
 */
export class SteadyRun {
  readonly xs: number[] = [];
  private lockedFor = 0;
  private lastT = NaN;

  constructor(
    readonly tau0 = 1,
    readonly settle = 10,
    readonly cap = 3600,
  ) {}

  add(t: number, x: number, locked: boolean): void {
    const gap = !(Math.abs(t - this.lastT - this.tau0) < this.tau0 / 10);
    this.lastT = t;
    if (!locked || !Number.isFinite(x) || gap) {
      this.xs.length = 0;
      this.lockedFor = locked && Number.isFinite(x) ? 1 : 0;
      return;
    }
    if (++this.lockedFor <= this.settle) return;
    this.xs.push(x);
    if (this.xs.length > this.cap) this.xs.shift();
  }
}
