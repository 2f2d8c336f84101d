// The demo's statistics (demo/stats.ts): histogram counts, and TDEV against
// inputs whose answer is known by hand or by derivation.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { halfWidthFor, histogram, niceCeil, SteadyRun, tdev } from "../demo/stats.ts";
import { Rng } from "../src/ptp/rng.ts";

describe("histogram", () => {
  it("counts a hand-checked input: [lo, hi) bins, the last closed, the rest under or over", () => {
    const h = histogram([-12, -10, -9.9, -5, 0, 4.99, 5, 9.99, 10, 10.01, 100], 10, 4);
    expect(h.edges).toEqual([-10, -5, 0, 5, 10]);
    expect(h.counts).toEqual([2, 1, 2, 3]);
    expect([h.under, h.over]).toEqual([1, 2]);
  });

  it("every sample is counted once, in the bin that holds it; mirrored samples give mirrored counts", () => {
    // Half-integers never sit on an edge (edges are multiples of 10), so the mirror is exact.
    const half = fc.integer({ min: -80, max: 80 }).map((k) => k + 0.5);
    fc.assert(
      fc.property(fc.array(half, { maxLength: 300 }), (xs) => {
        const h = histogram(xs, 50, 10);
        expect(h.counts.reduce((a, b) => a + b, 0) + h.under + h.over).toBe(xs.length);
        h.counts.forEach((c, k) => expect(c).toBe(xs.filter((x) => x >= h.edges[k] && x < h.edges[k + 1]).length));
        const m = histogram(
          xs.map((x) => -x),
          50,
          10,
        );
        expect(m.counts).toEqual(h.counts.slice().reverse());
        expect([m.under, m.over]).toEqual([h.over, h.under]);
      }),
    );
  });

  it("the half width is a 1-2-3-5 step at or above the 99th percentile of |x|: outliers fall outside", () => {
    expect([niceCeil(260), niceCeil(300), niceCeil(301), niceCeil(6), niceCeil(0.07)]).toEqual([300, 300, 500, 10, 0.1]);
    fc.assert(fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (v) => void expect(niceCeil(v) / v).toSatisfy((r: number) => r >= 1 - 1e-9 && r <= 2 + 1e-9)));
    const xs = [...new Array(99).fill(-7), 1e6];
    const w = halfWidthFor([xs.slice(0, 50), xs.slice(50)]);
    expect(w).toBe(10);
    expect(halfWidthFor([[], []])).toBe(1);
    // Counting up the steps gives what sorting would: the step at or above the sorted quantile (at least 1).
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: -1e7, max: 1e7 }), { maxLength: 80 }), { minLength: 1, maxLength: 4 }), (series) => {
        const a = series.flat().map(Math.abs).sort((x, y) => x - y);
        const q = a.length ? a[Math.floor(0.99 * (a.length - 1))] : 0;
        expect(halfWidthFor(series)).toBe(q <= 1 ? 1 : niceCeil(q));
      }),
    );
    expect(histogram(xs, w, 20).over).toBe(1);
  });
});

describe("TDEV", () => {
  const taus = (N: number) => tdev(new Array(N).fill(0), 1).map((p) => p.n);

  it("is computed at n = 1, 2, 4, ... while 3n <= N, tau = n·tau0", () => {
    expect(taus(2)).toEqual([]);
    expect(taus(3)).toEqual([1]);
    expect(taus(30)).toEqual([1, 2, 4, 8]);
    expect(taus(48)).toEqual([1, 2, 4, 8, 16]);
    expect(tdev(new Array(30).fill(0), 0.5).map((p) => p.tau)).toEqual([0.5, 1, 2, 4]);
  });

  it("a constant and a linear ramp (a pure frequency offset) give 0", () => {
    for (const p of tdev(new Array(100).fill(123_456_789), 1)) expect(p.tdev).toBe(0);
    for (const p of tdev(
      Array.from({ length: 100 }, (_, i) => 5000 - 37 * i),
      1,
    ))
      expect(p.tdev).toBe(0);
  });

  it("alternating ±a: TDEV(τ0) = 4a/√6, and 0 at 2τ0 and beyond", () => {
    // n = 1: x_{i+2} − 2x_{i+1} + x_i = ±4a for every i, so TDEV² = 16a²/6. n even: the three terms cancel.
    const r = tdev(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? -3 : 3)),
      1,
    );
    expect(r[0].tdev).toBeCloseTo(12 / Math.sqrt(6), 12);
    for (const p of r.slice(1)) expect(p.tdev).toBe(0);
  });

  it("a quadratic i² (a frequency drift): TDEV(nτ0) = n²·√(2/3)", () => {
    // The second difference over n is 2n² at every i; summed over n terms, 2n³; squared over 6n²: 2n⁴/3.
    for (const p of tdev(
      Array.from({ length: 200 }, (_, i) => i * i),
      1,
    ))
      expect(p.tdev / (p.n * p.n * Math.sqrt(2 / 3))).toBeCloseTo(1, 12);
  });

  it("scales with the noise and ignores any offset and ramp added to it", () => {
    const series = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 3, maxLength: 200 });
    fc.assert(
      fc.property(series, fc.integer({ min: -5, max: 5 }), fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -1000, max: 1000 }), (xs, c, a, b) => {
        const base = tdev(xs, 1);
        const moved = tdev(
          xs.map((x, i) => c * x + a + b * i),
          1,
        );
        moved.forEach((p, k) => expect(p.tdev).toBeCloseTo(Math.abs(c) * base[k].tdev, 6));
      }),
    );
  });

  it("white phase noise of σ: TDEV(nτ0) ≈ σ/√n (seeded, 100 000 samples)", () => {
    // Each inner sum is n samples × (1, −2, 1) from three disjoint blocks: variance 6nσ², so TDEV² = 6nσ²/(6n²) = σ²/n.
    const rng = new Rng(17);
    const sigma = 10;
    const xs = Array.from({ length: 100_000 }, () => sigma * rng.normal());
    for (const p of tdev(xs, 1).filter((q) => q.n <= 64)) expect(p.tdev / (sigma / Math.sqrt(p.n))).toBeCloseTo(1, 1);
  });
});

describe("SteadyRun", () => {
  it("keeps locked samples after `settle`, every tau0; an unlock, a NaN or a gap starts it again", () => {
    const r = new SteadyRun(1, 3, 5);
    for (let t = 0; t < 5; t++) r.add(t, t, true);
    expect(r.xs).toEqual([3, 4]); // 0, 1, 2: settling
    r.add(5, 5, false);
    expect(r.xs).toEqual([]);
    for (let t = 6; t < 10; t++) r.add(t, t, true);
    expect(r.xs).toEqual([9]);
    r.add(11.5, 11, true); // a gap: this is the first locked sample of a new run
    expect(r.xs).toEqual([]);
    for (let t = 12.5; t < 22; t++) r.add(t, t, true);
    expect(r.xs).toEqual([17.5, 18.5, 19.5, 20.5, 21.5]); // capped at 5
    r.add(22.5, NaN, true);
    expect(r.xs).toEqual([]);
  });
});
