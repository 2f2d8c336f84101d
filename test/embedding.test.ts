// The module embedded by other means than src/wasm.ts: AssemblyScript's
// generated bindings, and @assemblyscript/loader. Both read a page the
// kernel side wrote into their memory.
import { readFileSync } from "node:fs";
import { instantiate as loaderInstantiate } from "@assemblyscript/loader";
import { describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, EINVAL, READER_SLOTS, READER_SLOT_SIZE } from "../assembly/layout.ts";
import { DataStore } from "../src/datastore.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Timekeeper } from "../src/kernel/timekeeper.ts";
import { updateVsyscall } from "../src/kernel/vsyscall.ts";

const wasm = readFileSync(new URL("../build/release.wasm", import.meta.url));
const vdsoImports = (counter: () => bigint) => ({
  rdtsc: counter,
  sys_clock_gettime: () => -EINVAL,
  sys_clock_getres: () => -EINVAL,
  sys_gettimeofday: () => -EINVAL,
  sys_getrandom: () => -38n,
});

type E = {
  memory: WebAssembly.Memory;
  bind(t: number, r: number, g: number, a: number, p: number, h: number): number;
  set_slot(p: number): number;
  clock_gettime(c: number, ts: number): number;
  clock_gettime_ns(c: number): bigint;
};

/** Writes a time page with a timekeeper 5 s after boot at 1.7e9 s, and reads it through `e`. */
function check(e: E) {
  const cs = new VirtualClocksource();
  const store = new DataStore(e.memory);
  cs.attach(store);
  const tk = new Timekeeper(cs);
  tk.setXtime({ sec: 1_700_000_000n, nsec: 0n });
  tk.wallToMonotonic = { sec: -1_700_000_000n, nsec: 0n };
  cs.advanceNs(5_000_000_000);
  tk.advance("tick");
  updateVsyscall(store, tk);
  const v = store.rootView();
  expect(e.bind(v.time, -1, v.rng!, v.arch!, -1, -1)).toBe(0);
  expect(e.set_slot(READER_SLOTS + READER_SLOT_SIZE)).toBe(0);
  expect(e.clock_gettime_ns(0)).toBe(1_700_000_005_000_000_000n);
  expect(e.clock_gettime(-1, READER_SLOTS + READER_SLOT_SIZE)).toBe(-EINVAL);
  expect(e.clock_gettime_ns(CLOCK_MONOTONIC)).toBe(5_000_000_000n);
}

describe("embedding", () => {
  it("the generated AssemblyScript bindings (build/release.js)", async () => {
    const { instantiate } = await import("../build/release.js");
    const exports = (await instantiate(new WebAssembly.Module(wasm), { vdso: vdsoImports(() => 0n) })) as unknown as E;
    check(exports);
  });

  it("@assemblyscript/loader", async () => {
    const { exports } = await loaderInstantiate(wasm, { vdso: vdsoImports(() => 0n) });
    check(exports as unknown as E);
  });
});
