// WASI 0.2 clocks and random for jco (src/wasi-p2/): the interfaces in this
// process, then a real component: a wasip1 command (AssemblyScript,
// test/fixtures/wasi-p2/command.as) made a component with jco's preview1
// command adapter (`jco new --wasi-command`), transpiled with exactly the
// README's recipe (`--map 'wasi:clocks/*=wasm-vdso/wasi-p2/clocks#*' --map
// 'wasi:random/*=wasm-vdso/wasi-p2/random#*'`) and run by Node with
// @bytecodealliance/preview2-shim for everything else. No network: jco, its
// adapter and the shim come from node_modules.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { poll } from "@bytecodealliance/preview2-shim/io";
import { beforeAll, describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from "../assembly/layout.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { createReader } from "../src/reader.ts";
import { monotonicClock, useKernel, wallClock } from "../src/wasi-p2/clocks.ts";
import { insecureSeed, random } from "../src/wasi-p2/random.ts";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("..", import.meta.url));
const jco = join(repo, "node_modules/@bytecodealliance/jco/dist/jco.js");
const work = join(repo, "test-results/wasi-p2");
const NS = 1_000_000_000n;

/** Drops a pollable (the shim's [Symbol.dispose]). */
const drop = (p: object) => (p as { [Symbol.dispose]?: () => void })[Symbol.dispose]?.();
const hostMs = () => Number(process.hrtime.bigint()) / 1e6;

describe("wasi:clocks and wasi:random, in this process", () => {
  it("a virtual kernel: monotonic and wall-clock read it to the nanosecond, resolution 1 ns", async () => {
    const cs = new VirtualClocksource(1_000_000_000);
    const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 123_456_789n } });
    cs.advanceNs(2_000_000_003);
    k.tick();
    await useKernel(k);
    expect(monotonicClock.now()).toBe(2_000_000_003n);
    expect(wallClock.now()).toEqual({ seconds: 1_700_000_002n, nanoseconds: 123_456_792 });
    expect(monotonicClock.resolution()).toBe(1n);
    expect(wallClock.resolution()).toEqual({ seconds: 0n, nanoseconds: 1 });
    cs.advanceNs(1);
    expect(monotonicClock.now()).toBe(2_000_000_004n); // no tick needed: the reader reads the counter
    await useKernel(); // back to the default (and the reader made of k is closed)
    k.close();
  });

  it("a Reader is used as is, and the default is exact: host-call, resolution 1 ns, wall clock not whole ms", async () => {
    const k = await Kernel.create({ counter: "host-call" });
    const r = await createReader(k);
    await useKernel(r);
    const a = r.nowNs(CLOCK_MONOTONIC);
    const t = monotonicClock.now();
    expect(t >= a && t <= r.nowNs(CLOCK_MONOTONIC)).toBe(true);
    await useKernel();
    expect(r.clockGettime(CLOCK_REALTIME).ret).toBe(0); // not closed: it was the caller's
    r.close();
    k.close();
    expect(monotonicClock.resolution()).toBe(1n);
    const before = BigInt(Date.now()) * 1_000_000n;
    const w = wallClock.now();
    const ns = w.seconds * NS + BigInt(w.nanoseconds);
    // The host's wall clock (Date.now(), whole ms) and a kernel's REALTIME (set from it once, then run on the
    // monotonic counter) agree to within a few ms; what this checks is that it is real time, to the ns.
    expect(ns >= before - 20_000_000n && ns <= BigInt(Date.now() + 20) * 1_000_000n, `${ns} vs ${before}`).toBe(true);
    const subMs = Array.from({ length: 5 }, () => wallClock.now().nanoseconds % 1_000_000);
    expect(subMs.some((x) => x !== 0)).toBe(true); // jco's own wall clock is whole milliseconds
  });

  it("subscribe-duration and subscribe-instant give the shim's own Pollable; its wasi:io/poll blocks on them", async () => {
    // Host time is taken before subscribing: the duration runs from the subscription.
    const t0 = hostMs();
    const p = monotonicClock.subscribeDuration(30_000_000n);
    expect(p).toBeInstanceOf(poll.Pollable);
    poll.poll([p]); // blocks this thread (the shim waits in its worker)
    expect(hostMs() - t0).toBeGreaterThanOrEqual(29);
    expect(p.ready()).toBe(true);
    drop(p);
    // An instant on this module's clock: 30 ms from its now.
    const t1 = hostMs();
    const q = monotonicClock.subscribeInstant(monotonicClock.now() + 30_000_000n);
    expect(q).toBeInstanceOf(poll.Pollable);
    q.block();
    expect(hostMs() - t1).toBeGreaterThanOrEqual(29);
    drop(q);
    // An instant already past is ready at once.
    const r = monotonicClock.subscribeInstant(monotonicClock.now() - 1n);
    poll.poll([r]);
    expect(r.ready()).toBe(true);
    drop(r);
    // On a virtual kernel the instant is this kernel's: 1000 s of virtual time ahead is 20 ms away.
    const cs = new VirtualClocksource(1_000_000_000);
    const k = await Kernel.create({ clocksource: cs });
    cs.advanceNs(1_000_000_000_000);
    k.tick();
    await useKernel(k);
    const t2 = hostMs();
    const v = monotonicClock.subscribeInstant(1_000_020_000_000n);
    v.block();
    expect(hostMs() - t2).toBeGreaterThanOrEqual(19);
    drop(v);
    await useKernel();
    k.close();
    expect(() => monotonicClock.subscribeDuration(-1n)).toThrow(TypeError);
  });

  it("random: bytes of any length, u64s, a fixed insecure seed", () => {
    for (const n of [0, 1, 16, 255, 256, 257, 5000]) expect(random.getRandomBytes(BigInt(n)).length).toBe(n);
    const a = random.getRandomBytes(32n);
    expect(a).not.toEqual(random.getRandomBytes(32n));
    expect(typeof random.getRandomU64()).toBe("bigint");
    expect(random.getRandomU64()).not.toBe(random.getRandomU64());
    expect(insecureSeed.insecureSeed()).toEqual(insecureSeed.insecureSeed());
    expect(() => random.getRandomBytes(-1n)).toThrow(RangeError);
  });
});

describe("a component transpiled by jco with the README's recipe, run in Node", () => {
  const out = join(work, "out");
  beforeAll(async () => {
    if (!existsSync(jco)) throw new Error("no node_modules/@bytecodealliance/jco: it is a devDependency (npm ci)");
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    // 1. The wasip1 command, by asc.
    const asc = await import("assemblyscript/asc");
    const core = join(work, "core.wasm");
    copyFileSync(join(repo, "test/fixtures/wasi-p2/command.as"), join(work, "command.ts"));
    copyFileSync(join(repo, "test/fixtures/wasi-p2/asconfig.json"), join(work, "asconfig.json"));
    const built = await asc.main(["--config", join(work, "asconfig.json"), "-o", core]);
    if (built.error) throw new Error(`asc: ${built.error.message}\n${built.stderr.toString()}`);
    // 2. A component, with the preview1 command adapter jco ships; 3. the recipe.
    await run(process.execPath, [jco, "new", core, "--wasi-command", "-o", join(work, "component.wasm")]);
    await run(process.execPath, [
      jco, "transpile", join(work, "component.wasm"), "-o", out, "--quiet",
      "--map", "wasi:clocks/*=wasm-vdso/wasi-p2/clocks#*",
      "--map", "wasi:random/*=wasm-vdso/wasi-p2/random#*",
    ]);
    // An app of its own (else Node resolves `wasm-vdso` to this repo itself, by self-reference).
    writeFileSync(join(work, "package.json"), JSON.stringify({ name: "wasi-p2-app", private: true, type: "module" }));
    // `wasm-vdso` for the transpiled code and the runner: a stand-in package whose
    // subpaths are this tree's sources (run by tsx), so one module instance serves
    // both, and no build of dist/ is needed. The shim resolves from the repo's node_modules.
    const pkg = join(work, "node_modules/wasm-vdso");
    mkdirSync(pkg, { recursive: true });
    const src = (p: string) => pathToFileURL(join(repo, p)).href;
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "wasm-vdso", type: "module", exports: { ".": "./index.mjs", "./wasi-p2/clocks": "./clocks.mjs", "./wasi-p2/random": "./random.mjs" } }));
    writeFileSync(join(pkg, "index.mjs"), `export * from ${JSON.stringify(src("src/index.ts"))};\n`);
    writeFileSync(join(pkg, "clocks.mjs"), `export * from ${JSON.stringify(src("src/wasi-p2/clocks.ts"))};\n`);
    writeFileSync(join(pkg, "random.mjs"), `export * from ${JSON.stringify(src("src/wasi-p2/random.ts"))};\n`);
    // The runner: choose the kernel (documented API), then run the component.
    writeFileSync(
      join(work, "run.mjs"),
      `// argv[2]: "default" or "virtual"; FIXED_KEY=1: the host's secure source gives a fixed key
if (process.env.FIXED_KEY) crypto.getRandomValues = (a) => (new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(0x5a), a);
const { useKernel } = await import("wasm-vdso/wasi-p2/clocks");
if (process.argv[2] === "virtual") {
  const { Kernel, VirtualClocksource } = await import("wasm-vdso");
  const cs = new VirtualClocksource(1_000_000_000);
  const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 123_456_789n } });
  cs.advanceNs(5_000_000_007);
  k.tick();
  await useKernel(k);
}
const t0 = performance.now();
const { run } = await import("./out/component.js");
run.run();
console.error("host_ms " + (performance.now() - t0));
`,
    );
  }, 120_000);

  async function component(mode: "default" | "virtual", env: Record<string, string> = {}) {
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await run(process.execPath, ["--import", "tsx", join(work, "run.mjs"), mode], { cwd: repo, env: { ...process.env, ...env } });
    const after = BigInt(Date.now()) * 1_000_000n;
    const v = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(" ")));
    const hostElapsedMs = Number(/host_ms ([\d.]+)/.exec(r.stderr)![1]);
    return { v, before, after, hostElapsedMs, stdout: r.stdout };
  }

  it("on a virtual kernel (useKernel): every time the component prints is the virtual time, to the nanosecond", async () => {
    const { v, hostElapsedMs, stdout } = await component("virtual");
    expect(stdout).toMatch(/^realtime \d+\nmonotonic \d+\nres_realtime 1\nres_monotonic 1\nrandom [0-9a-f]{32}\nafter_relative \d+\nafter_absolute \d+\nerrors 0\n$/);
    expect(v.realtime).toBe("1700000005123456796"); // 1_700_000_000.123456789 s + 5.000000007 s
    expect(v.monotonic).toBe("5000000007");
    // Virtual time stands still while the host sleeps the 30 ms of each poll_oneoff.
    expect(v.after_relative).toBe("5000000007");
    expect(v.after_absolute).toBe("5000000007");
    expect(hostElapsedMs).toBeGreaterThanOrEqual(55);
  });

  it("on the default (exact host-call) kernel: wall clock to the ns within the host's, the sleeps on its monotonic clock", async () => {
    const { v, before, after } = await component("default");
    expect(v.errors).toBe("0");
    const rt = BigInt(v.realtime);
    expect(rt >= before - 1_000_000n && rt <= after + 1_000_000n).toBe(true);
    expect(v.res_monotonic).toBe("1");
    expect(v.res_realtime).toBe("1");
    const m = BigInt(v.monotonic), a = BigInt(v.after_relative), b = BigInt(v.after_absolute);
    expect(a - m >= 30_000_000n).toBe(true);
    expect(b - a >= 30_000_000n).toBe(true);
  });

  it("random_get came from the vDSO: with the host's key source fixed, two runs give the same bytes (the shim's own would not)", async () => {
    const x = await component("default", { FIXED_KEY: "1" });
    const y = await component("default", { FIXED_KEY: "1" });
    expect(x.v.random).toBe(y.v.random);
    const z = await component("default");
    expect(z.v.random).not.toBe(x.v.random);
  });
});
