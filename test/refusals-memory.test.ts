// Every refusal leaves no trace (issue 21, item 5), on the memory side: the
// store's memory known by its bytes on every WASI path, a mixed poll's array
// that must be writable, and a reader's view checked field by field.
import { describe, expect, it, onTestFinished } from "vitest";
import { CLOCK_MONOTONIC, CLOCK_REALTIME, DATA_START, READER_SLOTS, STORE_START, USER_START, vdso_pages } from "../assembly/layout.ts";
import { storeMemory } from "../src/datastore.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { instantiateProgram } from "../src/program.ts";
import { bridgeOf, createReader } from "../src/reader.ts";
import { wasiClockImports, wasiImports } from "../src/wasi.ts";
import { wasiAdapterPath, wasiClockImportsAdapter } from "../src/wasi-adapter.ts";
import { vdsoNs } from "./helpers/kernel.ts";

const FAULT_ERRNO = 21; // WASI `fault`
const SEC = 1_000_000_000n;

describe("the WASI copy path knows the store's memory by its bytes, not by its Memory object", () => {
  /** The same shared memory as another Memory object, the way a worker receives it. */
  const viaChannel = (m: WebAssembly.Memory) =>
    new Promise<WebAssembly.Memory>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port2.onmessage = (e) => {
        port1.close();
        port2.close();
        resolve(e.data as WebAssembly.Memory);
      };
      port1.postMessage(m);
    });

  it.each(["structuredClone", "a postMessage copy"])("%s of the store's memory as the guest's: the store, slots and module data are fault; user memory is written", async (how) => {
    const memory = storeMemory(true);
    memory.grow(40 - 25); // user memory from USER_START
    const k = await Kernel.create({ counter: "virtual", memory });
    onTestFinished(() => k.close());
    const r = await createReader(k);
    onTestFinished(() => r.close());
    const copy = how === "structuredClone" ? structuredClone(memory) : await viaChannel(memory);
    expect(copy).not.toBe(memory);
    expect(copy.buffer).not.toBe(memory.buffer);
    const p = wasiClockImports(r, () => copy);
    const w = wasiImports({ reader: r, guestMemory: () => copy, kernel: k });
    const a = wasiClockImportsAdapter(r, () => copy); // the multi-memory adapter where the engine has it (Node 22+)
    expect(a.clock_time_get(0, 0n, USER_START + 256)).toBe(0);
    // User memory is written (and the reader's slot holds this reading: virtual time stands still, so it stays).
    expect(p.clock_time_get(0, 0n, USER_START + 256)).toBe(0);
    const low = () => Buffer.from(new Uint8Array(memory.buffer, 0, USER_START));
    const before = low();
    // one relative MONOTONIC subscription, timeout 0, in user memory
    const d = new DataView(copy.buffer);
    d.setUint8(USER_START + 8, 0);
    d.setUint32(USER_START + 16, 1, true);
    for (const to of [k.store.time, k.store.time + 64, k.store.arch, STORE_START, READER_SLOTS, bridgeOf(r).scratch, DATA_START, USER_START - 8]) {
      expect(p.clock_time_get(0, 0n, to), `clock_time_get @${to}`).toBe(FAULT_ERRNO);
      expect(p.clock_res_get(0, to), `clock_res_get @${to}`).toBe(FAULT_ERRNO);
      expect(p.random_get(to, 16), `random_get @${to}`).toBe(FAULT_ERRNO);
      expect(w.imports.clock_time_get(0, 0n, to), `provider clock_time_get @${to}`).toBe(FAULT_ERRNO);
      expect(w.imports.poll_oneoff(USER_START, to, 1, USER_START + 64), `poll_oneoff events @${to}`).toBe(FAULT_ERRNO);
      expect(w.imports.poll_oneoff(USER_START, USER_START + 128, 1, to), `poll_oneoff nevents @${to}`).toBe(FAULT_ERRNO);
      // (the vDSO's own exports, which the adapter hands a guest on the store's memory, may write the reader's own slot)
      if (to === bridgeOf(r).scratch) continue;
      expect(a.clock_time_get(0, 0n, to), `${wasiAdapterPath(a)} clock_time_get @${to}`).toBe(FAULT_ERRNO);
      expect(a.clock_res_get(0, to), `${wasiAdapterPath(a)} clock_res_get @${to}`).toBe(FAULT_ERRNO);
      expect(a.random_get(to, 16), `${wasiAdapterPath(a)} random_get @${to}`).toBe(FAULT_ERRNO);
    }
    expect(low().equals(before)).toBe(true);
    expect(d.getBigUint64(USER_START + 256, true)).toBe(vdsoNs(r, CLOCK_REALTIME));
    // the control: a memory of the guest's own is written at the same addresses
    const own = storeMemory(true);
    expect(wasiClockImports(r, () => own).clock_time_get(0, 0n, k.store.time)).toBe(0);
  });
});

describe("poll_oneoff rewrites a mixed subscription array in place: it must be writable, not only readable", () => {
  it("an array below USER_START of a guest on the store's memory is fault, and the runtime is not called", async () => {
    const memory = storeMemory(true);
    memory.grow(40 - 25);
    const k = await Kernel.create({ counter: "virtual", memory });
    onTestFinished(() => k.close());
    const r = await createReader(k);
    onTestFinished(() => r.close());
    let calls = 0;
    const runtime = { poll_oneoff: () => (calls++, 0) };
    const at = k.store.time + vdso_pages.VDSO_NR_PAGES * vdso_pages.PAGE_SIZE; // a namespace page not handed out yet: inside the store
    for (const guest of [memory, structuredClone(memory)]) {
      const w = wasiImports({ reader: r, kernel: k, guestMemory: () => guest, runtime });
      const d = new DataView(guest.buffer);
      d.setUint8(at + 8, 0); // a clock, 1 s
      d.setUint32(at + 16, 1, true);
      d.setBigUint64(at + 24, 1_000_000_000n, true);
      d.setUint8(at + 48 + 8, 1); // fd 0 readable
      const before = new Uint8Array(memory.buffer, at, 96).slice();
      expect(w.imports.poll_oneoff(at, USER_START, 2, USER_START + 128)).toBe(FAULT_ERRNO);
      expect(calls).toBe(0);
      expect(new Uint8Array(memory.buffer, at, 96)).toEqual(before);
    }
  });
});

describe("a reader's view: every field checked (type, integer, u32 or NO_PAGE), and a kernel's namespace must be its own", () => {
  it("createReader and instantiateProgram refuse a bad view with the field's name, before anything is made", async () => {
    const k = await Kernel.create({ counter: "virtual", memory: true });
    onTestFinished(() => k.close());
    const { memory } = k;
    const view = k.rootView();
    const bad: [string, unknown, ErrorConstructor][] = [
      ["time", { ...view, time: view.time + 2 ** 32 }, RangeError], // bound as `time` before: wasm takes an i32
      ["real", { ...view, real: view.time + 2 ** 32 }, RangeError],
      ["rng", { ...view, rng: k.store.rng + 2 ** 33 }, RangeError],
      ["arch", { ...view, arch: k.store.arch - 2 ** 32 }, RangeError],
      ["pvclock", { ...view, pvclock: 1.5 }, RangeError],
      ["hvclock", { ...view, hvclock: -2 }, RangeError],
      ["time", { ...view, time: -1 }, RangeError], // NO_PAGE is for the other pages
      ["time", { ...view, time: NaN }, RangeError],
      ["real", { ...view, real: String(view.time) }, TypeError],
      ["arch", { ...view, arch: null }, TypeError],
      ["time", { real: view.time }, TypeError],
      ["time", { monotonic: { sec: 0n, nsec: 0n }, view }, TypeError], // a namespace where its view belongs
    ];
    for (const [field, v, type] of bad) {
      await expect(createReader({ memory, view: v as never }), field).rejects.toThrow(type);
      await expect(createReader({ memory, view: v as never }), field).rejects.toThrow(new RegExp(`source\\.view\\.${field}`));
      await expect(instantiateProgram(new Uint8Array(8), { memory, view: v as never }), field).rejects.toThrow(new RegExp(`source\\.view\\.${field}`));
    }
    await expect(createReader({ memory, view: 5 as never })).rejects.toThrow(/source\.view must be a View/);
    // each field read once: a getter cannot pass the check and bind something else
    let reads = 0;
    const flipping = { ...view, get time() { return reads++ === 0 ? view.time : view.time + 2 ** 32; } };
    const r = await createReader({ memory, view: flipping });
    onTestFinished(() => r.close());
    expect(reads).toBe(1);
    // the control: the view as it is, and NO_PAGE for absent pages, bind
    const ok = await createReader({ memory, view: { ...view, pvclock: -1, hvclock: undefined } });
    expect(ok.clockGettime(CLOCK_REALTIME).ret).toBe(0);
    ok.close();
  });

  it("a Kernel source's ns: only a namespace this kernel made (not a lookalike, not another kernel's, not one without a view)", async () => {
    const k = await Kernel.create({ counter: "virtual", memory: true });
    onTestFinished(() => k.close());
    const other = await Kernel.create({ counter: "virtual" });
    onTestFinished(() => other.close());
    const ns = k.createTimeNamespace({ monotonic: { sec: 10n, nsec: 0n } });
    const theirs = other.createTimeNamespace();
    if (typeof ns === "number" || typeof theirs === "number") throw new Error("no namespace");
    expect(Object.isFrozen(ns) && Object.isFrozen(ns.view)).toBe(true); // it cannot be pointed elsewhere later
    for (const bad of [{ view: {} }, { ...ns }, { ...ns, view: { ...ns.view, time: ns.page + 2 ** 32 } }, theirs, {}, 5]) {
      await expect(createReader(k, { ns: bad as never })).rejects.toThrow(/ns must be a TimeNamespace this kernel made/);
      await expect(instantiateProgram(new Uint8Array(8), k, { ns: bad as never })).rejects.toThrow(/ns must be a TimeNamespace/);
    }
    const r = await createReader(k, { ns });
    onTestFinished(() => r.close());
    expect(vdsoNs(r, CLOCK_MONOTONIC)).toBe(vdsoNs(await createReader(k), CLOCK_MONOTONIC) + 10n * SEC);
    // another store's namespace is read through its view (checked like any view)
    const rv = await createReader({ memory: k.memory, view: ns.view });
    onTestFinished(() => rv.close());
    expect(vdsoNs(rv, CLOCK_MONOTONIC)).toBe(vdsoNs(r, CLOCK_MONOTONIC));
  });
});
