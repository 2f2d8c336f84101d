/**
 * The rows: every way to read time, set up once and registered with `add`.
 * Wasm loop rows read through the testing build (the release reader plus
 * `read_loop`), made by the bridge as a kernel's own readers are; JS rows read
 * through public Readers (what users call); peers are called from the same
 * kind of wasm loop (build/bench.wasm) or guest (build/guest.wasm). No `node:`
 * import: Node (node.ts) and a page (browser/page.ts) say how to load a build
 * file and which WASI runtimes they have.
 */
import { WASI as ShimWASI } from "@bjorn3/browser_wasi_shim";
import { CLOCK_AUX, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME, MAX_AUX_CLOCKS } from "../assembly/layout.ts";
import { storeMemory } from "../src/datastore.ts";
import { hostClocksource, SharedCounterClocksource, VirtualClocksource } from "../src/kernel/clocksource.ts";
import { type CounterMode, Kernel } from "../src/kernel/kernel.ts";
import type { TimeNamespace } from "../src/kernel/timens.ts";
import { createReader, kernelSyscalls, type Reader } from "../src/reader.ts";
import { wasiClockImports, wasiClockImportsNoJs } from "../src/wasi.ts";
import { hasMultiMemory, wasiClockImportsAdapter } from "../src/wasi-adapter.ts";
import { Vdso } from "../src/wasm.ts";
import { testingExports } from "../test/helpers/testing.ts";
import { add, check, N } from "./core.ts";
import { tsReader } from "./ts-reader.ts";

/** A WASI preview1 runtime: `module` instantiated with its imports, `over` spread over them, and initialised. */
export type WasiRuntime = (module: WebAssembly.Module, over?: object, env?: object) => WebAssembly.Exports;
export interface Platform {
  /** A file of the build (build/bench.wasm, build/guest.wasm, ...). */
  load(path: string): Promise<BufferSource>;
  /** The WASI runtimes here by name, the first the one the import and adapter rows run under. */
  runtimes: Record<string, WasiRuntime>;
}

export const shimRuntime: WasiRuntime = (module, over = {}, env) => {
  const w = new ShimWASI([], [], []);
  const i = new WebAssembly.Instance(module, { ...(env ? { env } : {}), wasi_snapshot_preview1: { ...w.wasiImport, ...over } } as WebAssembly.Imports);
  w.initialize(i as never);
  return i.exports;
};

async function testingReader(k: Kernel, ns: TimeNamespace | null) {
  const v = await Vdso.create({ memory: k.memory, build: "testing", counter: k.cs.read.bind(k.cs), syscalls: kernelSyscalls(k, ns) });
  v.bind(ns ? ns.view : k.rootView());
  return v;
}

/** Sets up every row; returns what must be closed at the end. */
export async function defineRows(platform: Platform): Promise<{ close(): void }> {
  // One kernel per counter mode, all on shared memory; the shared-counter one
  // lives in the memory the no-JS WASI guest imports (build/guest-shared.wasm
  // declares 40 pages and keeps its data above 32) and serves the WASI rows too.
  const guestMemory = storeMemory(true);
  guestMemory.grow(40 - guestMemory.buffer.byteLength / 65536);
  const kernels = {} as Record<CounterMode, Kernel>;
  for (const mode of ["host-call", "shared", "virtual"] as const) {
    const k = await Kernel.create({ counter: mode, tickerPeriodNs: 50_000, memory: mode === "shared" ? guestMemory : true });
    k.auxClockEnable(0, true);
    const ns = k.createTimeNamespace({ monotonic: { sec: 1000n, nsec: 0n }, boottime: { sec: 2000n, nsec: 0n } });
    if (typeof ns === "number") throw new Error(`namespace: ${ns}`);
    k.startTicking(250);
    kernels[mode] = k;
    const loop = testingExports(await testingReader(k, null)).read_loop;
    const nsLoop = testingExports(await testingReader(k, ns)).read_loop;
    const res = (await createReader(k)).clockGetres(CLOCK_MONOTONIC).ts!.nsec;
    await new Promise((r) => setTimeout(r, mode === "shared" ? 300 : 0)); // the ticker measures its period
    add(`wasm loop, ${mode}`, `wasm ${mode}: MONOTONIC`, () => check(loop(CLOCK_MONOTONIC, N), "read"), N, `resolution ${res} ns (clock_getres)`);
    add(`wasm loop, ${mode}`, `wasm ${mode}: REALTIME`, () => check(loop(CLOCK_REALTIME, N), "read"), N);
    add(`wasm loop, ${mode}`, `wasm ${mode}: MONOTONIC_COARSE`, () => check(loop(CLOCK_MONOTONIC_COARSE, N), "read"), N);
    add(`wasm loop, ${mode}`, `wasm ${mode}: CLOCK_AUX`, () => check(loop(CLOCK_AUX, N), "read"), N);
    add(`wasm loop, ${mode}`, `wasm ${mode}: MONOTONIC in a time namespace`, () => check(nsLoop(CLOCK_MONOTONIC, N), "read"), N);
  }

  // The same read inlined into the caller's loop (an AssemblyScript program compiling assembly/ in), and the floor.
  const shared = kernels.shared;
  const iv = await Vdso.create({ memory: shared.memory, build: "inline", counter: shared.cs.read.bind(shared.cs), syscalls: kernelSyscalls(shared, null) });
  iv.bind(shared.rootView());
  const inline = iv.exports as unknown as { inline_loop(clock: number, n: number): bigint; bare_loop(n: number): bigint };
  add("wasm loop, shared", "wasm shared: MONOTONIC, read inlined into the caller's loop", () => check(inline.inline_loop(CLOCK_MONOTONIC, N), "inline"), N);
  add("wasm loop, shared", "floor: bare seqlock read inlined, no checks (not a valid reader)", () => inline.bare_loop(N), N);

  // The README's first example, as a user writes it: a default kernel (shared counter where workers exist) and its reader.
  const defaultKernel = await Kernel.create();
  if (!(defaultKernel.cs instanceof SharedCounterClocksource)) throw new Error("the default kernel should have a shared counter here");
  defaultKernel.startTicking();
  const clock = await createReader(defaultKernel);

  // From JS: each row has its own loop, written out: closures made by one helper
  // would share V8's call-site feedback and turn every row's call megamorphic.
  const sr = await createReader(shared);
  const hr = await createReader(kernels["host-call"]);
  const ts = tsReader(shared.memory, shared.rootView());
  const M = CLOCK_MONOTONIC;
  add("from JS", "JS -> wasm, shared: number (clock_gettime_f64)", () => {
    let a = 0;
    for (let i = 0; i < N; i++) a += sr.now(M);
    check(a, "now");
  }, N);
  add("from JS", "JS -> wasm, shared: BigInt (clock_gettime_ns)", () => {
    let a = 0n;
    for (let i = 0; i < N; i++) a ^= sr.nowNs(M);
    return a;
  }, N);
  add("from JS", "JS -> wasm, host-call: number", () => {
    let a = 0;
    for (let i = 0; i < N; i++) a += hr.now(M);
    check(a, "host-call now");
  }, N);
  add("from JS", "JS API as the README shows it: clock.now(CLOCK_MONOTONIC), default kernel", () => {
    let a = 0;
    for (let i = 0; i < N; i++) a += clock.now(M);
    check(a, "clock.now");
  }, N);
  add("from JS", "plain TypeScript reader, shared (BigInt)", () => {
    let a = 0n;
    for (let i = 0; i < N; i++) a ^= ts(M);
    return a;
  }, N);
  add("host clocks", "performance.now()", () => {
    let a = 0;
    for (let i = 0; i < N; i++) a += performance.now();
    return a;
  }, N);
  add("host clocks", "Date.now()", () => {
    let a = 0;
    for (let i = 0; i < N; i++) a += Date.now();
    return a;
  }, N);
  if (typeof process !== "undefined" && process.hrtime) {
    add("host clocks", "process.hrtime.bigint()", () => {
      let a = 0n;
      for (let i = 0; i < N; i++) a ^= process.hrtime.bigint();
      return a;
    }, N);
  }

  // Other wasm time providers, called from the same kind of wasm loop; the
  // counter import is the one host-call mode wraps (hrtime in Node, performance.now in a page).
  const benchModule = await WebAssembly.compile(await platform.load("build/bench.wasm"));
  const host = hostClocksource();
  const hostEnv = { counter: host.read, nop: () => 0n };
  type Loops = { wasi_loop(n: number, id: number): bigint; counter_loop(n: number): bigint; nop_loop(n: number): bigint };
  const loops = Object.entries(platform.runtimes).map(([name, run]) => [name, run(benchModule, {}, hostEnv) as unknown as Loops] as const);
  for (const [name, l] of loops) add("wasi", `${name} clock_time_get(MONOTONIC)`, () => check(l.wasi_loop(N, 1), name), N);
  const first = loops[0][1];
  add("imports", "bare import () => 0n", () => first.nop_loop(N), N);
  add("imports", `host counter import (${host.name === "hrtime" ? "process.hrtime.bigint" : "performance.now"})`, () => first.counter_loop(N), N, "what host-call mode wraps");

  // WASI clock_time_get and random_get through each path, from the guest built here.
  // The copy path reads an exact (host-call) kernel, as a guest's provider should;
  // the no-JS guest must share the store's memory (the shared-counter kernel's).
  for (const [name, g] of Object.entries(await wasiGuests(platform, hr, sr, guestMemory))) {
    add("WASI guest", `clock_time_get(MONOTONIC) via ${name}`, () => check(g.time_loop(N, 1), name), N);
    add("WASI guest", `random_get(32 B) via ${name}`, () => check(-g.random_loop(N / 10, 32), name), N / 10);
  }

  // The writer: one tick with the core and eight aux clocks.
  const vcs = new VirtualClocksource();
  const writer = await Kernel.create({ clocksource: vcs });
  for (let i = 0; i < MAX_AUX_CLOCKS; i++) writer.auxClockEnable(i, true);
  add("writer", "one timekeeper update (core + 8 aux clocks)", () => {
    vcs.advanceNs(4_000_000);
    writer.tick();
  });

  return {
    close() {
      for (const k of Object.values(kernels)) k.close();
      defaultKernel.close();
      writer.close();
    },
  };
}

export type Guest = {
  now(id: number, precision: bigint): bigint; res(id: number): bigint; random(len: number): number;
  time_loop(n: number, id: number): bigint; random_loop(n: number, len: number): number; memory: WebAssembly.Memory;
};

/**
 * The guest (build/guest.wasm) under each runtime, with and without the
 * provider reading through `provider`; the no-JS guest and the multi-memory
 * adapter under the first runtime.
 */
export async function wasiGuests(platform: Platform, provider: Reader, noJsProvider: Reader, guestMemory: WebAssembly.Memory): Promise<Record<string, Guest>> {
  const guestModule = await WebAssembly.compile(await platform.load("build/guest.wasm"));
  const sharedGuestModule = await WebAssembly.compile(await platform.load("build/guest-shared.wasm"));
  const runtimes = Object.entries(platform.runtimes);
  const guests: Record<string, Guest> = {};
  for (const [name, run] of runtimes) guests[name] = run(guestModule) as unknown as Guest;
  for (const [name, run] of runtimes) {
    let g: Guest | undefined;
    guests[`${name} + wasm-vdso`] = g = run(guestModule, wasiClockImports(provider, () => g!.memory)) as unknown as Guest;
  }
  const [firstName, first] = runtimes[0];
  guests["wasm-vdso, no JS (guest imports the vDSO's memory)"] = first(sharedGuestModule, wasiClockImportsNoJs(noJsProvider), { memory: guestMemory }) as unknown as Guest;
  // A guest with its own memory, no JS after the first call: the multi-memory adapter (Node 22+, Chromium 120+).
  if (hasMultiMemory()) {
    let g: Guest | undefined;
    guests[`${firstName} + wasm-vdso multi-memory adapter`] = g = first(guestModule, wasiClockImportsAdapter(provider, () => g!.memory)) as unknown as Guest;
  }
  return guests;
}
