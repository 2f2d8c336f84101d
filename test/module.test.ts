// The module's surface: a steady list of imports and exports, and a size budget.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const bytes = readFileSync(new URL("../build/release.wasm", import.meta.url));
const mod = new WebAssembly.Module(bytes);

describe("release module", () => {
  it("imports only the counter and the three syscalls", () => {
    expect(WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort()).toEqual([
      "env.rdtsc", "env.sys_clock_getres", "env.sys_clock_gettime", "env.sys_gettimeofday",
    ]);
  });

  it("exports the vDSO entry points", () => {
    const fns = WebAssembly.Module.exports(mod).filter((e) => e.kind === "function").map((e) => e.name).sort();
    expect(fns).toEqual(["bind", "clock_getres", "clock_gettime", "gettimeofday", "mul_u64_u32_add_u64_shr", "time", "vdso_calc_ns"]);
  });

  it("stays within its size budget (8 KiB)", () => {
    expect(bytes.length).toBeLessThanOrEqual(8 * 1024);
  });
});
