// The module embedded by other means than src/wasm.ts: AssemblyScript's
// generated bindings, and @assemblyscript/loader. Both pass the memory the
// module imports in `env` (the host makes it: the store lives there), and
// read a page the kernel side wrote into it.
import { readFileSync } from "node:fs";
import { instantiate as loaderInstantiate } from "@assemblyscript/loader";
import { describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, EFAULT, EINVAL, READER_SLOTS, READER_SLOT_SIZE } from "../assembly/layout.ts";
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
/** The memory a host makes for a store and its readers (the module's own limits). */
const storeMemory = () => new WebAssembly.Memory({ initial: 25, maximum: 64 });

type E = {
  memory: WebAssembly.Memory;
  bind(t: number, r: number, g: number, a: number, p: number, h: number): number;
  set_slot(p: number): number;
  clock_gettime(c: number, ts: number): number;
  clock_gettime_ns(c: number): bigint;
};

/** Writes a time page with a timekeeper 5 s after boot at 1.7e9 s into `memory`, and reads it through `e`. */
function check(e: E, memory: WebAssembly.Memory) {
  expect(e.memory).toBe(memory); // the imported memory, exported back as it was given
  const cs = new VirtualClocksource();
  const store = new DataStore(memory);
  cs.attach(store);
  const tk = new Timekeeper(cs);
  tk.setXtime({ sec: 1_700_000_000n, nsec: 0n });
  tk.wallToMonotonic = { sec: -1_700_000_000n, nsec: 0n };
  cs.advanceNs(5_000_000_000);
  tk.advance("tick");
  updateVsyscall(store, tk);
  const v = store.rootView();
  const slot = READER_SLOTS + READER_SLOT_SIZE;
  expect(e.bind(v.time, -1, v.rng!, v.arch!, -1, -1)).toBe(0);
  expect(e.set_slot(slot)).toBe(0);
  expect(e.clock_gettime_ns(0)).toBe(1_700_000_005_000_000_000n);
  expect(e.clock_gettime(-1, slot)).toBe(-EINVAL);
  expect(e.clock_gettime_ns(CLOCK_MONOTONIC)).toBe(5_000_000_000n);
  expect(e.clock_gettime_ns(1.5)).toBe(-BigInt(EINVAL));
  // Another reader's slot is not this one's to write.
  expect(e.clock_gettime(CLOCK_MONOTONIC, slot + READER_SLOT_SIZE)).toBe(-EFAULT);
}

describe("embedding", () => {
  it("the generated AssemblyScript bindings (build/release.js)", async () => {
    const { instantiate } = await import("../build/release.js");
    const memory = storeMemory();
    const exports = (await instantiate(new WebAssembly.Module(wasm), { vdso: vdsoImports(() => 0n), env: { memory } })) as unknown as E;
    check(exports, memory);
  });

  it("@assemblyscript/loader", async () => {
    const memory = storeMemory();
    const { exports } = await loaderInstantiate(wasm, { vdso: vdsoImports(() => 0n), env: { memory } });
    check(exports as unknown as E, memory);
  });
});
