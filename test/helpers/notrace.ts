/** Test helpers for refusals: a booted virtual kernel, everything a call could change, and a check that nothing did. */
import { expect } from "vitest";
import { CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI, vdso_pages } from "../../assembly/layout.ts";
import { timex } from "../../src/kernel/timex.ts";
import { sysNs, vdsoNs, virtualKernel } from "./kernel.ts";

export const PAGE = vdso_pages.PAGE_SIZE;
export const SEC = 1_000_000_000n;
export const ALL = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE];
export const AUX = [CLOCK_AUX, CLOCK_AUX + 1];

export type VK = Awaited<ReturnType<typeof virtualKernel>>;

/** A virtual kernel 2 s after boot with aux clocks 0 and 1 enabled. */
export async function booted(): Promise<VK> {
  const v = await virtualKernel();
  v.k.auxClockEnable(0, true);
  v.k.auxClockEnable(1, true);
  v.run(2n * SEC);
  return v;
}

/** Everything a call could leave behind, at a counter that does not move. */
export function state(v: VK) {
  const { k, r } = v;
  const t = timex({ modes: 0 });
  const ret = k.adjtimex(t);
  const { time: _time, ...ntp } = t;
  const aux = AUX.map(() => timex());
  AUX.forEach((c, i) => k.clockAdjtime(c, aux[i]));
  return {
    page: Array.from(k.store.bytes(k.store.time, PAGE)),
    seq: k.store.getU32(k.store.time),
    vdso: [...ALL, ...AUX].map((c) => vdsoNs(r, c)),
    sys: [...ALL, ...AUX].map((c) => sysNs(k, c)),
    tz: { ...k.tz },
    gtod: r.gettimeofday(),
    ntp: { ret, ...ntp },
    auxNtp: aux.map(({ time: _t, ...rest }) => rest),
  };
}

/**
 * Runs `refuse` (which asserts the refusal itself) and checks that nothing
 * changed: the whole time page (seq, every base, tz, aux clocks), each clock
 * through the reader and the syscall, NTP state; then that the tick still
 * works: 3 s more of virtual time move every clock by 3 s.
 */
export function expectNoTrace(v: VK, refuse: () => void): void {
  const before = state(v);
  expect(before.seq % 2).toBe(0);
  refuse();
  const after = state(v);
  expect(after.seq).toBe(before.seq);
  expect(after).toEqual(before);
  expectTicks(v);
}

/** The tick still works: run 3 s, every clock moved by 3 s (NTP steers within a few ns), vDSO equals syscall, seq even. */
export function expectTicks(v: VK, slewNs = 0n): void {
  const { k, r, run } = v;
  const rt = vdsoNs(r, CLOCK_REALTIME);
  const raw = vdsoNs(r, CLOCK_MONOTONIC_RAW);
  const aux = AUX.map((c) => vdsoNs(r, c));
  run(3n * SEC);
  expect(vdsoNs(r, CLOCK_MONOTONIC_RAW) - raw).toBe(3n * SEC);
  const d = vdsoNs(r, CLOCK_REALTIME) - rt - 3n * SEC - slewNs;
  expect(d < 0n ? -d : d).toBeLessThanOrEqual(1000n);
  AUX.forEach((c, i) => expect(vdsoNs(r, c) - aux[i]).toBe(3n * SEC));
  for (const c of [...ALL, ...AUX]) expect(vdsoNs(r, c), `clock ${c}`).toBe(sysNs(k, c));
  expect(k.store.getU32(k.store.time) % 2).toBe(0);
}

/** Counts `k`'s ticks from now on (the ticker calls k.tick): a refused startTicking must leave the running ticker as it was. */
export function countTicks(k: { tick(): void }): () => number {
  let ticks = 0;
  const tick = k.tick.bind(k);
  k.tick = () => {
    ticks++;
    tick();
  };
  return () => ticks;
}
