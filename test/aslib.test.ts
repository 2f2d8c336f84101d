// The AssemblyScript library (assembly/lib.ts, assembly/asconfig.lib.json):
// the example program (examples/as-loop) is compiled with asc against the
// repository's library and against the packed tarball, instantiated on a
// kernel's store with `instantiateProgram`, and must read what the JS reader
// reads at the same virtual time, with the read inlined into its loop.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLOCK_AUX, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_SGI_CYCLE, EFAULT, EINVAL, ENODEV, READER_SLOTS, STORE_START, USER_START,
} from "../assembly/layout.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { closeProgram, instantiateProgram } from "../src/program.ts";
import { createReader } from "../src/reader.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLE = join(ROOT, "examples/as-loop");

interface Program {
  loop(clock: number, n: number): bigint;
  elapsed(n: number): bigint;
  gettime(clock: number, ts: number): number;
  set_slot(p: number): number;
  TS: WebAssembly.Global;
  memory: WebAssembly.Memory;
}

/** A project folder holding the example's program and config, with `wasm-vdso` in node_modules made by `install`. */
function project(install: (pkgDir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "aslib-"));
  mkdirSync(join(dir, "assembly"));
  mkdirSync(join(dir, "node_modules"));
  copyFileSync(join(EXAMPLE, "asconfig.json"), join(dir, "asconfig.json"));
  copyFileSync(join(EXAMPLE, "assembly/index.ts"), join(dir, "assembly/index.ts"));
  install(join(dir, "node_modules/wasm-vdso"));
  return dir;
}

/** Compiles the project's program with asc (its asconfig, which extends the library's); returns the wasm and the wat. */
async function compile(dir: string, target: "release" | "shared", extra: string[] = []) {
  const stderr = asc.createMemoryStream();
  const out = `build/${target}${extra.length ? "-x" : ""}`;
  const { error } = await asc.main(
    ["--baseDir", dir, "--config", "asconfig.json", "--target", target, "--outFile", `${out}.wasm`, "--textFile", `${out}.wat`, ...extra],
    { stdout: asc.createMemoryStream(), stderr },
  );
  if (error) throw new Error(`asc: ${error.message}\n${stderr.toString()}`);
  return { wasm: readFileSync(join(dir, `${out}.wasm`)), wat: readFileSync(join(dir, `${out}.wat`), "utf8") };
}

/** A kernel on a 1 GHz virtual counter (the counter word in the arch page), 5 s after boot, and a JS reader of it. */
async function virtualKernel(shared = false) {
  const cs = new VirtualClocksource(1_000_000_000);
  const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 0n }, memory: shared });
  const run = (ns: number) => {
    cs.advanceNs(ns);
    k.tick();
  };
  run(5_000_000_000);
  return { k, cs, run, r: await createReader(k) };
}

const timespecNs = (m: WebAssembly.Memory, at: number) => {
  const d = new DataView(m.buffer);
  return d.getBigInt64(at, true) * 1_000_000_000n + d.getBigInt64(at + 8, true);
};

const dirs: string[] = [];
let repo: { wasm: Buffer; wat: string };
let repoShared: { wasm: Buffer; wat: string };
let repoDir: string;

beforeAll(async () => {
  repoDir = project((pkg) => symlinkSync(ROOT, pkg, "dir"));
  dirs.push(repoDir);
  repo = await compile(repoDir, "release");
  repoShared = await compile(repoDir, "shared");
}, 300_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("AssemblyScript library", () => {
  it("puts the program in user memory and inlines the read into its loop", () => {
    // Static data at USER_START (the library's UNBOUND page, then the program's TS), the memory imported.
    expect(repo.wat).toMatch(/\(import "env" "memory" \(memory \$0 \d+\)\)/);
    expect(repoShared.wat).toMatch(/\(import "env" "memory" \(memory \$0 \d+ 65536 shared\)\)/);
    expect(repo.wat).toMatch(/\(data \$0 \(i32\.const 2097152\)/);
    const loop = repo.wat.match(/\(func \$assembly\/index\/loop [\s\S]*?\n \)/)![0];
    expect(loop).toMatch(/\.atomic\.load/); // the seqlock read, here
    // No call into the reader on the fast pass: the one call is the full read, taken only when the pass misses.
    const calls = [...loop.matchAll(/call (\$\S+)/g)].map((m) => m[1]);
    expect(calls).toEqual(["$~lib/wasm-vdso/assembly/gettimeofday/value_slow"]);
    expect(loop.match(/\n\s*loop \$/g)).toHaveLength(1); // the program's own: the read adds no retry loop
  });

  it("reads what the JS reader reads at the same virtual time", async () => {
    const { k, cs, run, r } = await virtualKernel();
    const inst = await instantiateProgram(repo.wasm, k);
    const p = inst.exports as unknown as Program;
    expect(p.memory).toBe(k.memory);
    for (const step of [0, 1, 999_999_937, 4_000_000]) {
      run(step);
      cs.advanceNs(123_457); // past the tick: the read extrapolates with the counter word
      for (const clock of [CLOCK_MONOTONIC, CLOCK_REALTIME]) {
        expect(p.loop(clock, 1000)).toBe(r.nowNs(clock));
        expect(p.gettime(clock, p.TS.value)).toBe(0); // its own static data is user memory
        expect(timespecNs(k.memory, p.TS.value)).toBe(r.nowNs(clock));
      }
    }
    expect(p.elapsed(1000)).toBe(0n); // virtual time stands still while the program runs
    closeProgram(inst);
    r.close();
    k.close();
  });

  it("answers -EFAULT for a pointer outside user memory, and the syscall's answer for the rest", async () => {
    const { k, r } = await virtualKernel();
    const p = (await instantiateProgram(repo.wasm, k)).exports as unknown as Program;
    for (const at of [USER_START - 16, USER_START - 1, STORE_START, READER_SLOTS, 0]) expect(p.gettime(CLOCK_MONOTONIC, at)).toBe(-EFAULT);
    expect(p.gettime(CLOCK_MONOTONIC, USER_START)).toBe(0); // its own static data (the library's page) is the program's to overwrite
    expect(p.loop(CLOCK_SGI_CYCLE, 1)).toBe(BigInt(-EINVAL)); // through the slot and the kernel's syscall
    expect(p.loop(CLOCK_AUX, 1)).toBe(BigInt(-ENODEV)); // a disabled aux clock
    k.auxClockEnable(0, true);
    expect(p.loop(CLOCK_AUX, 1)).toBe(r.nowNs(CLOCK_AUX));
    r.close();
    k.close();
  });

  it("a store in shared memory, read as { memory, view } (the page's syscalls)", async () => {
    const { k, run, r } = await virtualKernel(true);
    await expect(instantiateProgram(repo.wasm, k)).rejects.toThrow(/imports a plain memory and the store's is shared/);
    const p = (await instantiateProgram(repoShared.wasm, { memory: k.memory, view: k.rootView() })).exports as unknown as Program;
    run(777_777);
    expect(p.loop(CLOCK_MONOTONIC, 100)).toBe(r.nowNs(CLOCK_MONOTONIC));
    expect(p.loop(CLOCK_SGI_CYCLE, 1)).toBe(BigInt(-EINVAL));
    r.close();
    k.close();
  });

  it("host-call mode: the counter comes from the rdtsc import", async () => {
    const k = await Kernel.create({ counter: "host-call", memory: false });
    const p = (await instantiateProgram(repo.wasm, k)).exports as unknown as Program;
    const sys = () => {
      const t = k.sysClockGettime(CLOCK_MONOTONIC);
      if (typeof t === "number") throw new Error(`errno ${t}`);
      return t.sec * 1_000_000_000n + t.nsec;
    };
    const before = sys();
    const t = p.loop(CLOCK_MONOTONIC, 10);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(sys());
    k.close();
  });

  it("refuses programs that do not fit the memory map", async () => {
    const { k, r } = await virtualKernel();
    // Static data at DATA_START (the package's own modules' place) would overwrite their data.
    const low = await compile(repoDir, "release", ["--memoryBase", "1572864"]);
    await expect(instantiateProgram(low.wasm, k)).rejects.toThrow(/static data starts at 1572864, below layout.USER_START/);
    // A module without the binding exports (imports env.memory of 33 pages, nothing else).
    const bare = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 15, 1, 3, 0x65, 0x6e, 0x76, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 0, 33]);
    await expect(instantiateProgram(bare, k)).rejects.toThrow(/must export bind and set_slot/);
    await expect(instantiateProgram(repo.wasm, { memory: k.memory, view: { time: 12345 } })).rejects.toThrow(/not inside the page store/);
    r.close();
    k.close();
  });

  it("gives the slot back on closeProgram: the instance is then unbound, without a slot", async () => {
    const { k, r } = await virtualKernel();
    const inst = await instantiateProgram(repo.wasm, k);
    const p = inst.exports as unknown as Program;
    const map = () => new Int32Array(k.memory.buffer, READER_SLOTS, 1)[0];
    const before = map();
    closeProgram(inst);
    expect(popcount(map())).toBe(popcount(before) - 1);
    expect(p.loop(CLOCK_MONOTONIC, 1)).toBe(BigInt(-EFAULT)); // unbound: the fallback needs a slot
    expect(p.gettime(CLOCK_MONOTONIC, p.TS.value)).toBe(0); // a user pointer still works (the kernel's syscall)
    expect(p.set_slot(READER_SLOTS + 512)).toBe(-1); // and it cannot take another reader's slot
    r.close();
    k.close();
  });

  it("the packed tarball ships the library: the example compiles against it and reads the same", async () => {
    const packDir = mkdtempSync(join(tmpdir(), "aslib-pack-"));
    dirs.push(packDir);
    // --ignore-scripts: the AssemblyScript sources ship as they are (prepack builds only dist and the wasm).
    const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packDir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const tgz = join(packDir, JSON.parse(out)[0].filename as string);
    const dir = project((pkg) => {
      mkdirSync(pkg);
      execFileSync("tar", ["-xzf", tgz, "-C", pkg, "--strip-components=1"]);
    });
    dirs.push(dir);
    const shipped = readdirSync(join(dir, "node_modules/wasm-vdso/assembly"));
    expect(shipped).toEqual(expect.arrayContaining(["lib.ts", "asconfig.lib.json"]));
    const packed = await compile(dir, "release");
    const { k, run, r } = await virtualKernel();
    const p = (await instantiateProgram(packed.wasm, k)).exports as unknown as Program;
    run(31_415_926);
    expect(p.loop(CLOCK_MONOTONIC, 10)).toBe(r.nowNs(CLOCK_MONOTONIC));
    r.close();
    k.close();
  }, 300_000);
});

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
