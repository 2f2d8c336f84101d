// The writer against real kernel pages: a timekeeper in the state the snapshot's
// kernel was in publishes a byte-identical time page; a namespace built with the
// snapshot's offsets is the kernel's namespace page, byte for byte.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI, vdso_clock, vdso_clock_mode, vdso_pages } from "../assembly/layout.ts";
import { DataStore } from "../src/datastore.ts";
import { type Clocksource, clocksourceParams } from "../src/kernel/clocksource.ts";
import { Timekeeper } from "../src/kernel/timekeeper.ts";
import { createTimeNamespace } from "../src/kernel/timens.ts";
import { updateVsyscall, updateVsyscallTz } from "../src/kernel/vsyscall.ts";
import { parseSnapshot, type Snapshot } from "../src/snapshot.ts";
import { Vdso } from "../src/wasm.ts";
import { RecordingSyscalls } from "./helpers/pages.ts";

const PAGE = vdso_pages.PAGE_SIZE;
const load = (f: string) => parseSnapshot(readFileSync(new URL(`./fixtures/vvarsnap/${f}`, import.meta.url)));

/** The snapshot machine's TSC: 2596.122 MHz gives its mult 6462414, shift 24, max_cycles. */
function snapshotTsc(s: Snapshot): Clocksource {
  const p = clocksourceParams(2_596_122_000, (1n << 64n) - 1n);
  return { name: "tsc", read: () => s.tsc & ((1n << 63n) - 1n), freqHz: 2_596_122_000, mask: (1n << 64n) - 1n, ...p, vdsoClockMode: vdso_clock_mode.TSC };
}

/** Recovers the kernel's timekeeper state from a real time page. */
function timekeeperFrom(page: DataView, cs: Clocksource): { tk: Timekeeper; seq: number } {
  const u64 = (o: number) => page.getBigUint64(o, true);
  const s64 = (o: number) => page.getBigInt64(o, true);
  const base = (cs_: number, clock: number) => ({ sec: s64(cs_ * 232 + 40 + 16 * clock), nsec: u64(cs_ * 232 + 48 + 16 * clock) });
  const tk = new Timekeeper(cs);
  const shift = BigInt(page.getUint32(vdso_clock.shift, true));
  const ps = 1_000_000_000n << shift;
  const rt = base(0, CLOCK_REALTIME);
  tk.xtimeSec = rt.sec;
  tk.mono.xtimeNsec = rt.nsec;
  tk.mono.cycleLast = u64(vdso_clock.cycle_last);
  tk.mono.mult = BigInt(page.getUint32(vdso_clock.mult, true));
  tk.raw.cycleLast = u64(232 + vdso_clock.cycle_last);
  tk.raw.mult = BigInt(page.getUint32(232 + vdso_clock.mult, true));
  tk.coarseNsec = base(0, CLOCK_REALTIME_COARSE).nsec;
  const diff = (a: { sec: bigint; nsec: bigint }, b: { sec: bigint; nsec: bigint }) => {
    let d = a.nsec - b.nsec;
    let sec = a.sec - b.sec;
    if (d < 0n) {
      d += ps;
      sec--;
    }
    expect(d % (1n << shift)).toBe(0n); // offsets are whole nanoseconds
    return { sec, nsec: d >> shift };
  };
  const mono = base(0, CLOCK_MONOTONIC);
  tk.wallToMonotonic = diff(mono, rt);
  const boot = diff(base(0, CLOCK_BOOTTIME), mono);
  tk.offsBoot = boot.sec * 1_000_000_000n + boot.nsec;
  tk.taiOffset = Number(base(0, CLOCK_TAI).sec - rt.sec);
  const raw = base(1, CLOCK_MONOTONIC_RAW);
  tk.rawSec = raw.sec;
  tk.raw.xtimeNsec = raw.nsec;
  return { tk, seq: page.getUint32(0, true) };
}

async function freshStore() {
  const vdso = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls() });
  return { vdso, store: new DataStore(vdso.memory) };
}

describe("update_vsyscall against real kernel pages", () => {
  for (const f of ["snap_00.bin", "snap_01.bin", "snap_02.bin", "snap_03.bin", "snap_04.bin", "timens_00.bin"]) {
    it(`${f}: the published time page is byte-identical`, async () => {
      const s = load(f);
      const realIdx = s.flags & 1 ? 1 : 0;
      const real = s.vvarPages.subarray(realIdx * PAGE, (realIdx + 1) * PAGE);
      const { tk, seq } = timekeeperFrom(new DataView(real.buffer, real.byteOffset, PAGE), snapshotTsc(s));
      const { store } = await freshStore();
      // Two seq increments per update: start two below the snapshot's.
      store.setU32(store.time, seq - 2);
      store.setU32(store.time + 232, seq - 2);
      updateVsyscallTz(store, s.tzMinuteswest, s.tzDsttime);
      updateVsyscall(store, tk);
      const ours = store.bytes(store.time, PAGE);
      const firstDiff = ours.findIndex((b, i) => b !== real[i]);
      expect(firstDiff, `first differing byte at ${firstDiff}`).toBe(-1);
    });
  }
});

describe("time-namespace page against the kernel's", () => {
  it("timens_00: offsets 1000.123456789 s / 5000.999999999 s give the kernel's page 0 exactly", async () => {
    const s = load("timens_00.bin");
    const { store } = await freshStore();
    const ns = createTimeNamespace(store, { sec: 1000n, nsec: 123456789n }, { sec: 5000n, nsec: 999999999n }, false);
    const kernel = s.vvarPages.subarray(0, PAGE);
    const ours = store.bytes(ns.page, PAGE);
    expect(ours.findIndex((b, i) => b !== kernel[i])).toBe(-1);
  });

  it("with aux clocks, every aux slot is marked too (seq 1, TIMENS, offsets)", async () => {
    const { store } = await freshStore();
    const ns = createTimeNamespace(store, { sec: -5n, nsec: 250n }, { sec: 7n, nsec: 0n });
    const d = new DataView(store.memory.buffer);
    for (let i = 0; i < 8; i++) {
      const vc = ns.page + 464 + 232 * i;
      expect(d.getUint32(vc, true)).toBe(1);
      expect(d.getInt32(vc + 4, true)).toBe(0x7fffffff);
      expect(d.getBigInt64(vc + 40 + 16 * CLOCK_MONOTONIC, true)).toBe(-5n);
      expect(d.getBigUint64(vc + 48 + 16 * CLOCK_MONOTONIC, true)).toBe(250n);
      expect(d.getBigInt64(vc + 40 + 16 * 9, true)).toBe(7n);
      expect(d.getBigInt64(vc + 40 + 16 * CLOCK_REALTIME, true)).toBe(0n);
    }
  });
});
