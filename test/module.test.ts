// The modules' surface: a steady list of imports and exports, where their static
// data lies, and a size budget.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MEMORY_PAGES } from "../src/datastore.ts";
import { DATA_START, USER_START } from "../assembly/layout.ts";

const read = (name: string) => readFileSync(new URL(`../build/${name}.wasm`, import.meta.url));
const bytes = read("release");
const mod = new WebAssembly.Module(bytes);

/** What users call: the vDSO entry points and the WASI ones, nothing that takes a raw address unchecked. */
const SHIPPED = [
  "bind", "clock_getres", "clock_gettime", "clock_gettime_f64", "clock_gettime_ns", "gettimeofday", "set_slot", "time",
  "wasi_clock_res_get", "wasi_clock_time_get", "wasi_random_get", "wasi_time_ns",
];
/** What only the testing build adds: primitives for tests and the bench. */
const PRIMITIVES = ["chacha20_block", "chacha20_blocks", "mul_u64_u32_add_u64_shr", "mul_u64_u64_hi", "read_loop", "vdso_calc_ns", "vgetrandom"];

const functions = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).filter((e) => e.kind === "function").map((e) => e.name).sort();
const importNames = (m: WebAssembly.Module) => WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}`).sort();

/** Reads a LEB128 at `p` (signed: sign-extended from its last byte): [value, next position]. */
function leb(b: Uint8Array, p: number, signed = false): [number, number] {
  let v = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = b[p++];
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  if (signed && byte & 0x40) v -= 2 ** shift;
  return [v, p];
}

/** Active data segments (offset, length), from the binary's data section (id 11). */
function dataSegments(b: Uint8Array): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (let p = 8; p < b.length; ) {
    const id = b[p];
    const [size, body] = leb(b, p + 1);
    p = body + size;
    if (id !== 11) continue;
    let [count, q] = leb(b, body);
    for (; count > 0; count--) {
      let flags: number;
      [flags, q] = leb(b, q);
      let offset: number | undefined;
      if (flags !== 1) {
        if (flags === 2) q = leb(b, q)[1]; // memory index
        expect(b[q]).toBe(0x41); // i32.const <offset> end
        [offset, q] = leb(b, q + 1, true);
        expect(b[q++]).toBe(0x0b);
      }
      let len: number;
      [len, q] = leb(b, q);
      if (offset !== undefined) out.push({ offset, length: len });
      q += len;
    }
  }
  return out;
}

describe("release module", () => {
  it("imports its memory (env.memory), the counter and the four syscalls", () => {
    expect(importNames(mod)).toEqual([
      "env.memory", "vdso.rdtsc", "vdso.sys_clock_getres", "vdso.sys_clock_gettime", "vdso.sys_getrandom", "vdso.sys_gettimeofday",
    ]);
  });

  it("exports exactly the shipped entry points (no test primitives, no layout copy)", () => {
    expect(functions(mod)).toEqual(SHIPPED);
    expect(WebAssembly.Module.exports(mod).filter((e) => e.kind !== "function").map((e) => `${e.kind}:${e.name}`)).toEqual(["memory:memory"]);
  });

  it("places its static data where the layout says (asconfig memoryBase = DATA_START)", () => {
    const cfg = JSON.parse(readFileSync(new URL("../asconfig.json", import.meta.url), "utf8"));
    expect(cfg.options.memoryBase).toBe(DATA_START);
    const testing = JSON.parse(readFileSync(new URL("../asconfig.testing.json", import.meta.url), "utf8"));
    expect(testing.options.memoryBase).toBe(DATA_START);
    // The memory the host makes (storeMemory) is the one every build declares.
    for (const c of [cfg, testing]) {
      expect(c.options.initialMemory).toBe(MEMORY_PAGES.initial);
      expect(c.options.maximumMemory).toBe(MEMORY_PAGES.maximum);
    }
  });

  // Two inlined copies of the read path (as the kernel's __always_inline, several ns
  // a read), ChaCha20, vgetrandom and the WASI entry points: ~13 KiB today.
  it("stays within its size budget (16 KiB)", () => {
    expect(bytes.length).toBeLessThanOrEqual(16 * 1024);
  });
});

describe("every build", () => {
  const builds = {
    release: { shared: false, exports: SHIPPED },
    "release-shared": { shared: true, exports: SHIPPED },
    debug: { shared: false, exports: SHIPPED },
    testing: { shared: false, exports: [...SHIPPED, ...PRIMITIVES].sort() },
    "testing-shared": { shared: true, exports: [...SHIPPED, ...PRIMITIVES].sort() },
  };
  for (const [name, want] of Object.entries(builds)) {
    it(`${name}: imports a ${want.shared ? "shared" : "plain"} memory the host's (25, 64) satisfies; its exports; static data in [DATA_START, USER_START)`, async () => {
      const b = read(name);
      const m = new WebAssembly.Module(b);
      const mem = WebAssembly.Module.imports(m).filter((i) => i.kind === "memory");
      expect(mem.map((i) => `${i.module}.${i.name}`)).toEqual(["env.memory"]);
      expect(functions(m)).toEqual(want.exports);
      const segs = dataSegments(b);
      expect(Math.min(...segs.map((s) => s.offset))).toBe(DATA_START); // the unbound page comes first
      for (const s of segs) {
        expect(s.offset).toBeGreaterThanOrEqual(DATA_START);
        expect(s.offset + s.length).toBeLessThanOrEqual(USER_START);
      }
      // The memory the host creates is accepted, in the right flavour, and the other flavour is refused.
      const memory = new WebAssembly.Memory({ initial: 25, maximum: 64, shared: want.shared });
      const other = new WebAssembly.Memory({ initial: 25, maximum: 64, shared: !want.shared });
      const vdso = { rdtsc: () => 0n, sys_clock_gettime: () => -22, sys_clock_getres: () => -22, sys_gettimeofday: () => -22, sys_getrandom: () => -38n };
      const env = (memory: WebAssembly.Memory) => ({ memory, abort: () => {} });
      const inst = await WebAssembly.instantiate(m, { vdso, env: env(memory) });
      expect(inst.exports.memory).toBe(memory);
      await expect(WebAssembly.instantiate(m, { vdso, env: env(other) })).rejects.toThrow();
      expect(memory.buffer.byteLength).toBeGreaterThan(DATA_START);
    });
  }

  it("no build has a heap (nothing past the static data) or grows memory", () => {
    for (const name of ["release", "release-shared", "debug", "testing"]) {
      const wat = readFileSync(new URL(`../build/${name}.wat`, import.meta.url), "utf8");
      expect(wat, name).not.toMatch(/~lib\/rt\/stub|__heap_base|memory\.grow/);
    }
  });

  it("the shipped files are release, release-shared and debug (copy-assets), not the testing builds", () => {
    const script = readFileSync(new URL("../scripts/copy-assets.mjs", import.meta.url), "utf8");
    for (const f of ["release.wasm", "release-shared.wasm", "debug.wasm"]) expect(script).toContain(`"${f}"`);
    expect(script).not.toContain("testing");
  });
});
