// The README's examples as written: every TypeScript block type-checks with
// --strict against this tree's public API ("wasm-vdso" mapped to src/index.ts),
// and every block marked `readme-test: run` runs.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createReader, Kernel, layout, ntp, VirtualClocksource } from "../src/index.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/<!-- readme-test: run -->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
// Blocks marked `readme-test: skip` show code against things that exist only in a user's project (a transpiled component).
const allTs = [...readme.matchAll(/(<!-- readme-test: skip -->\n)?```ts\n([\s\S]*?)```/g)].filter((m) => !m[1]).map((m) => m[2]);
const dir = fileURLToPath(new URL("./.readme/", import.meta.url));
const api = fileURLToPath(new URL("../src/index.ts", import.meta.url));

describe("README examples", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("has the quick start, the kernel side and the threads examples marked to run", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it(`every TypeScript block (${allTs.length}) type-checks with --strict`, () => {
    mkdirSync(`${dir}types`, { recursive: true });
    allTs.forEach((code, i) => writeFileSync(`${dir}types/block${i}.ts`, code + "\nexport {};\n"));
    writeFileSync(`${dir}types/tsconfig.json`, JSON.stringify({
      extends: "../../../tsconfig.json",
      compilerOptions: { strict: true, noUnusedLocals: false, noEmit: true, paths: { "wasm-vdso": [api] } },
      include: ["*.ts"],
    }));
    const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
    let out = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", `${dir}types/tsconfig.json`], { encoding: "utf8" });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    expect(out).toBe("");
  }, 120_000);

  blocks.forEach((code, i) => {
    it(`block ${i + 1} runs as written: ${code.split("\n")[0]}`, async () => {
      mkdirSync(dir, { recursive: true });
      const file = `${dir}block${i}.ts`;
      writeFileSync(file, code.replaceAll('from "wasm-vdso"', `from ${JSON.stringify(api)}`) + "\nexport {};\n");
      await import(pathToFileURL(file).href);
    });
  });

  it("the kernel example's stated results hold", async () => {
    const cs = new VirtualClocksource(1_000_000_000);
    const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 0n } });
    const r = await createReader(k);
    cs.advanceNs(4_000_000);
    k.tick();
    expect(r.clockGettime(layout.CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: { sec: 0n, nsec: 4000000n } });
    expect(k.adjtimex(ntp.timex({ modes: ntp.ADJ_FREQUENCY, freq: 819200n }))).toBeGreaterThanOrEqual(0);
    const real = r.nowNs(layout.CLOCK_REALTIME);
    expect(k.adjtimex(ntp.timex({ modes: ntp.ADJ_SETOFFSET | ntp.ADJ_NANO, time: { sec: -2n, usec: 500_000_000n } }))).toBeGreaterThanOrEqual(0);
    expect(real - r.nowNs(layout.CLOCK_REALTIME)).toBe(1_500_000_000n); // stepped 1.5 s back
    expect(k.clockSettime(layout.CLOCK_REALTIME, { sec: 1_800_000_000n, nsec: 0n })).toBe(0);
    expect(k.settimeofday(null, { minuteswest: -60, dsttime: 0 })).toBe(0);
    const mono = r.nowNs(layout.CLOCK_MONOTONIC);
    const boot = r.nowNs(layout.CLOCK_BOOTTIME);
    expect(k.suspend(3_600_000_000_000n)).toBe(0);
    expect(r.nowNs(layout.CLOCK_MONOTONIC)).toBe(mono);
    expect(r.nowNs(layout.CLOCK_BOOTTIME) - boot).toBe(3_600_000_000_000n);
    expect(k.auxClockEnable(0, true)).toBe(0);
    expect(k.clockSettime(layout.CLOCK_AUX, { sec: 1234n, nsec: 0n })).toBe(0);
    expect(k.clockAdjtime(layout.CLOCK_AUX, ntp.timex({ modes: ntp.ADJ_FREQUENCY, freq: -65536n }))).toBeGreaterThanOrEqual(0);
    const ns = k.createTimeNamespace({ monotonic: { sec: 1000n, nsec: 0n }, boottime: { sec: 5000n, nsec: 0n } });
    if (typeof ns === "number") throw new Error(`errno ${ns}`);
    const inside = await createReader(k, { ns });
    expect(inside.nowNs(layout.CLOCK_MONOTONIC) - r.nowNs(layout.CLOCK_MONOTONIC)).toBe(1000_000_000_000n);
  });
});
