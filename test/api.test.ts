// The public API: the names the README's "API" section lists, no more; and no raw wasm exports on public objects.
import { describe, expect, it } from "vitest";
import * as api from "../src/index.ts";

describe("public API", () => {
  it("exports exactly the names the README lists", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("\n## API\n"), readme.indexOf("\n## ", readme.indexOf("\n## API\n") + 1));
    const listed = [...section.matchAll(/^\| `([A-Za-z]+)`/gm)].map((m) => m[1]).sort();
    expect(Object.keys(api).sort()).toEqual(listed);
    expect(listed.length).toBeLessThanOrEqual(30);
  });

  it("ServoState exists at run time", () => {
    expect(api.ServoState.LOCKED).toBeTypeOf("number");
  });

  it("a reader carries two wasm functions for speed and nothing else of the module", async () => {
    const k = await api.Kernel.create({ clocksource: new api.VirtualClocksource() });
    const r = await api.createReader(k);
    expect(Object.keys(r).sort()).toEqual(["now", "nowNs"]);
    expect(JSON.stringify(Object.getOwnPropertyNames(Object.getPrototypeOf(r)))).not.toMatch(/exports|memory|bind/);
    r.close();
    expect(() => r.clockGettime(api.layout.CLOCK_MONOTONIC)).toThrow(TypeError);
    expect(r.now(api.layout.CLOCK_MONOTONIC)).toBe(-api.layout.EFAULT);
    expect(r.nowNs(api.layout.CLOCK_MONOTONIC)).toBe(BigInt(-api.layout.EFAULT));
  });

  it("no public object carries the module's exports (Replay holds its reader privately)", async () => {
    const replay = await api.Replay.create();
    const reach = (o: object) => JSON.stringify(Object.keys(o)) + Object.values(o).map((v) => (v && typeof v === "object" ? Object.keys(v).join() : "")).join();
    expect(reach(replay)).not.toMatch(/exports|vdso/);
  });
});
