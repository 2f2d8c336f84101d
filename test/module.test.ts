// The module's surface: a steady list of imports and exports, and a size budget.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DATA_START } from "../assembly/layout.ts";

const bytes = readFileSync(new URL("../build/release.wasm", import.meta.url));
const mod = new WebAssembly.Module(bytes);

describe("release module", () => {
  it("imports only the counter and the four syscalls", () => {
    expect(WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort()).toEqual([
      "vdso.rdtsc", "vdso.sys_clock_getres", "vdso.sys_clock_gettime", "vdso.sys_getrandom", "vdso.sys_gettimeofday",
    ]);
  });

  it("exports the vDSO entry points", () => {
    const fns = WebAssembly.Module.exports(mod).filter((e) => e.kind === "function").map((e) => e.name).sort();
    expect(fns).toEqual([
      "bind", "chacha20_block", "chacha20_blocks", "clock_getres", "clock_gettime", "clock_gettime_f64", "clock_gettime_ns",
      "gettimeofday", "mul_u64_u32_add_u64_shr", "mul_u64_u64_hi", "read_loop", "set_slot", "time", "vdso_calc_ns", "vgetrandom",
      "wasi_clock_res_get", "wasi_clock_time_get", "wasi_random_get", "wasi_time_ns",
    ]);
  });

  it("places its static data where the layout says (asconfig memoryBase = DATA_START)", () => {
    const cfg = JSON.parse(readFileSync(new URL("../asconfig.json", import.meta.url), "utf8"));
    expect(cfg.options.memoryBase).toBe(DATA_START);
  });

  it("the shared build imports a shared memory big enough for store, slots and data", () => {
    const shared = new WebAssembly.Module(readFileSync(new URL("../build/shared.wasm", import.meta.url)));
    const mem = WebAssembly.Module.imports(shared).filter((i) => i.kind === "memory");
    expect(mem.map((m) => `${m.module}.${m.name}`)).toEqual(["env.memory"]);
    expect(new WebAssembly.Memory({ initial: 25, maximum: 64, shared: true }).buffer.byteLength).toBeGreaterThan(DATA_START);
  });

  // Two inlined copies of the read path (as the kernel's __always_inline, several ns
  // a read), ChaCha20, vgetrandom and the WASI entry points: ~12 KiB today.
  it("stays within its size budget (16 KiB)", () => {
    expect(bytes.length).toBeLessThanOrEqual(16 * 1024);
  });
});
