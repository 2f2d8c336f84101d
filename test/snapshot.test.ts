// The public kernel snapshots, replayed through the wasm reader: every record exact.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkRecords, Replay } from "../src/replay.ts";
import { parseSnapshot, SnapshotError } from "../src/snapshot.ts";

const dir = new URL("./fixtures/vvarsnap/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".bin")).sort();
const load = (f: string) => parseSnapshot(readFileSync(new URL(f, dir)));

describe("public snapshots via the wasm reader", () => {
  it("has the six public files", () => {
    expect(files).toEqual(["snap_00.bin", "snap_01.bin", "snap_02.bin", "snap_03.bin", "snap_04.bin", "timens_00.bin"]);
  });

  for (const build of ["release", "debug"] as const) {
    it(`42 of 42 records exact and within before/after (${build})`, async () => {
      const replay = await Replay.create(build);
      let exact = 0;
      let inRange = 0;
      let total = 0;
      for (const f of files) {
        const s = load(f);
        replay.load(s);
        const answers = replay.clocks();
        for (const c of checkRecords(s, answers)) {
          total++;
          expect("sec" in c.answer, `${f} clock ${c.clockId} answered in the vDSO`).toBe(true);
          if (c.exact) exact++;
          if (c.inRange) inRange++;
        }
      }
      expect(total).toBe(42);
      expect(exact).toBe(42);
      expect(inRange).toBe(42);
    });
  }

  it("getres and tz equal the kernel's syscall answers stored in each snapshot", async () => {
    const replay = await Replay.create();
    for (const f of files) {
      const s = load(f);
      replay.load(s);
      expect(replay.clockGetres(1)).toEqual({ ret: 0, ts: { sec: 0n, nsec: BigInt(s.resHresNs) } });
      expect(replay.clockGetres(6)).toEqual({ ret: 0, ts: { sec: 0n, nsec: BigInt(s.resCoarseNs) } });
      const tv = replay.gettimeofday();
      expect(tv.ret).toBe(0);
      expect([tv.minuteswest, tv.dsttime]).toEqual([s.tzMinuteswest, s.tzDsttime]);
    }
  });

  it("gettimeofday and time agree with REALTIME of the same page", async () => {
    const replay = await Replay.create();
    const s = load("snap_00.bin");
    replay.load(s);
    const rt = replay.clock(0);
    const tv = replay.gettimeofday();
    if (!("sec" in rt)) throw new Error("REALTIME fell back");
    expect(tv.sec).toBe(rt.sec);
    expect(tv.usec).toBe(rt.nsec / 1000n);
    // time() is the seconds of the last update (basetime), not of now.
    const rc = replay.clock(5);
    if (!("sec" in rc)) throw new Error("REALTIME_COARSE fell back");
    expect(replay.time()).toBe(rc.sec);
  });

  it("the time-namespace snapshot shows the namespace offsets, and only where Linux applies them", async () => {
    const replay = await Replay.create();
    const root = load("snap_04.bin");
    const ns = load("timens_00.bin");
    replay.load(ns);
    const a = replay.clocks();
    // Offsets from the snapshot README: monotonic 1000.123456789 s, boottime 5000.999999999 s.
    const at = (id: number) => a[id] as { sec: bigint; nsec: bigint };
    const n = (id: number) => at(id).sec * 1_000_000_000n + at(id).nsec;
    expect(n(7) - n(1)).toBe(4000_876_543_210n); // boottime - monotonic offset (no suspend)
    // REALTIME is not offset: it is close to the root snapshot taken seconds earlier.
    replay.load(root);
    const r = replay.clocks();
    const rsec = (r[0] as { sec: bigint }).sec;
    expect(at(0).sec - rsec).toBeGreaterThanOrEqual(0n);
    expect(at(0).sec - rsec).toBeLessThan(60n);
    expect(at(1).sec - (r[1] as { sec: bigint }).sec).toBeGreaterThanOrEqual(1000n);
  });

  it("answers are fallbacks exactly where the vDSO has none", async () => {
    const replay = await Replay.create();
    replay.load(load("snap_00.bin"));
    const fellBack = replay.clocks().filter((c) => "fallback" in c).map((c) => c.id);
    expect(fellBack).toEqual([2, 3, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
  });
});

describe("bad snapshot files", () => {
  const good = readFileSync(new URL("snap_00.bin", dir));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["empty", new Uint8Array(0), /truncated/],
    ["header only", good.subarray(0, 96), /truncated/],
    ["pages cut", good.subarray(0, 20000), /truncated: pages end/],
    ["garbage", new TextEncoder().encode("hello, this is not a snapshot at all".repeat(10)), /not a VVARSNAP/],
    ["version 2", (() => { const b = Uint8Array.from(good); b[8] = 2; return b; })(), /version 2/],
    ["page size", (() => { const b = Uint8Array.from(good); b[17] = 0x20; return b; })(), /page_size/],
    ["huge n_clocks", (() => { const b = Uint8Array.from(good); b[59] = 0x7f; return b; })(), /n_clocks/],
  ];
  for (const [name, bytes, why] of cases) {
    it(`${name}: SnapshotError`, () => {
      expect(() => parseSnapshot(bytes)).toThrow(SnapshotError);
      expect(() => parseSnapshot(bytes)).toThrow(why);
    });
  }
});
