// Real WASI guests compiled from C (test/guests/*.c, wasi-libc) run under
// node:wasi with this provider: clock_getres, nanosleep, clock_nanosleep
// (relative and TIMER_ABSTIME), sleeps in virtual time, seeded runs, poll().
// Built once by test/guests/build.sh into build/guests/; SKIPPED where no
// wasm32-wasi clang is installed.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, constants as fsc } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WASI } from "node:wasi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { createWasiProvider, type WasiProviderOptions } from "../src/wasi.ts";

const root = new URL("..", import.meta.url).pathname;
const guestsDir = join(root, "build/guests");
let skip: string | undefined;
const tmp = mkdtempSync(join(tmpdir(), "wasi-guests-"));

beforeAll(() => {
  const r = spawnSync("bash", [join(root, "test/guests/build.sh")], { encoding: "utf8" });
  if (r.status === 3) skip = r.stderr.trim();
  else if (r.status !== 0) throw new Error(`test/guests/build.sh failed:\n${r.stderr}`);
  if (skip) console.warn(`*** ${skip} ***`);
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Run = { stdout: string; exit: number; p: Awaited<ReturnType<typeof createWasiProvider>> };
/** Runs a guest under node:wasi with a provider of its own; stdout captured from a file. */
async function run(name: string, opts: Omit<WasiProviderOptions, "guestMemory"> & { args?: string[]; stdin?: number; preopen?: string } = {}): Promise<Run> {
  const out = join(tmp, `${name}-${Math.random().toString(36).slice(2)}.out`);
  const fd = openSync(out, "w");
  let memory: WebAssembly.Memory | undefined;
  const wasi = new WASI({ version: "preview1", args: [name, ...(opts.args ?? [])], returnOnExit: true, stdout: fd, stdin: opts.stdin, preopens: opts.preopen ? { "/in": opts.preopen } : {} });
  const p = await createWasiProvider({ ...opts, guestMemory: () => memory!, runtime: wasi.wasiImport });
  try {
    const module = new WebAssembly.Module(readFileSync(join(guestsDir, `${name}.wasm`)));
    const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: p.imports as WebAssembly.ModuleImports });
    memory = instance.exports.memory as WebAssembly.Memory;
    const exit = wasi.start(instance);
    closeSync(fd);
    return { stdout: readFileSync(out, "utf8"), exit, p };
  } finally {
    p.close();
  }
}
const lines = (s: string) => Object.fromEntries(s.trim().split("\n").map((l) => { const i = l.indexOf(" "); return [l.slice(0, i), l.slice(i + 1)]; }));
const field = (s: string, k: string) => BigInt(new RegExp(`${k}=(-?\\d+)`).exec(s)![1]);
const guard = (ctx: { skip: (note?: string) => void }) => { if (skip) ctx.skip(`SKIPPED: ${skip}`); };

describe("C guests (wasi-libc) under node:wasi with the provider", () => {
  it("exact by default: clock_getres(MONOTONIC) <= 1 us; every sleep wakes at or after its deadline on the kernel clock", async (ctx) => {
    guard(ctx);
    const { stdout, exit, p } = await run("clocks");
    expect(exit).toBe(0);
    const l = lines(stdout);
    expect(BigInt(l.res.split(" ")[1])).toBeLessThanOrEqual(1000n); // "res MONOTONIC <ns>" (first res line)
    for (const kind of ["nanosleep", "rel-mono", "abs-mono", "abs-real"]) {
      expect(l[kind], kind).toBeDefined();
      expect(field(l[kind], "ret"), kind).toBe(0n);
      expect(field(l[kind], "woke") >= field(l[kind], "deadline"), `${kind}: ${l[kind]}`).toBe(true);
    }
    expect(p.stats.polls).toBe(4);
    expect(p.stats.waits).toBeGreaterThan(0); // it really blocked (Atomics.wait)
  });

  it("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME): ours returns at the deadline; node:wasi alone does not return", async (ctx) => {
    guard(ctx);
    const { stdout } = await run("clocks", { args: ["abs-mono"] });
    const l = lines(stdout);
    expect(field(l["abs-mono"], "woke") >= field(l["abs-mono"], "deadline")).toBe(true);
    // node:wasi takes the absolute MONOTONIC deadline against REALTIME: it waits ~forever.
    // In a child process (a worker blocked in uvwasi's native poll cannot be terminated), killed after 1.5 s.
    const script = `const { WASI } = require("node:wasi"); const { readFileSync } = require("node:fs");
      const wasi = new WASI({ version: "preview1", args: ["clocks", "abs-mono"], returnOnExit: true });
      wasi.start(new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[1])), { wasi_snapshot_preview1: wasi.wasiImport }));`;
    const r = spawnSync(process.execPath, ["--no-warnings", "-e", script, join(guestsDir, "clocks.wasm")], { timeout: 1500, killSignal: "SIGKILL", encoding: "utf8" });
    const returned = r.signal !== "SIGKILL"; // the sleep is 20 ms: 75 times that
    expect(returned).toBe(false);
  });

  it("a virtual kernel: 3 x 50 ms of sleep is exactly 150 ms of kernel time, with no wall-clock wait", async (ctx) => {
    guard(ctx);
    const { stdout, p } = await run("sleeps", { clock: "virtual" });
    const l = lines(stdout);
    expect(l.elapsed).toBe("150000000");
    for (const i of [0, 1, 2]) expect(stdout).toContain(`sleep ${i} took 50000000\n`);
    // The kernel's counter moved by exactly the sleeps, in tick-sized steps, and nothing blocked.
    expect((p.kernel.cs as VirtualClocksource).counter).toBe(150_000_000n); // a fresh counter starts at 0
    expect(p.stats).toMatchObject({ polls: 3, waits: 0, busyWaits: 0, virtualNs: 150_000_000n, ticks: 39 }); // 3 x (12 x 4 ms + 2 ms)
    expect(BigInt(l.end.split(" ")[1]) - BigInt(l.start.split(" ")[1])).toBe(150_000_000n); // "end realtime" - "start realtime"
  });

  it("deterministic runs: a virtual kernel and the same insecureRandomSeed give byte-identical output", async (ctx) => {
    guard(ctx);
    const a = await run("sleeps", { clock: "virtual", insecureRandomSeed: 2024n });
    const b = await run("sleeps", { clock: "virtual", insecureRandomSeed: 2024n });
    expect(b.stdout).toBe(a.stdout);
    expect(a.stdout).toMatch(/^start realtime 1700000000000000000 monotonic 0\n/);
    const c = await run("sleeps", { clock: "virtual", insecureRandomSeed: 2025n });
    expect(lines(c.stdout).random).not.toBe(lines(a.stdout).random);
    expect(c.stdout.replace(/random \w+/, "")).toBe(a.stdout.replace(/random \w+/, "")); // only the bytes differ
    const r1 = await run("random", { clock: "virtual", insecureRandomSeed: "seed" });
    const r2 = await run("random", { clock: "virtual", insecureRandomSeed: "seed" });
    expect(r2.stdout).toBe(r1.stdout);
    // Without a seed the bytes are the host's (different every run), even in virtual time.
    const u1 = await run("random", { clock: "virtual" });
    const u2 = await run("random", { clock: "virtual" });
    expect(u2.stdout).not.toBe(u1.stdout);
  });

  it("random bytes: getentropy and random_get answered by the vDSO", async (ctx) => {
    guard(ctx);
    const { stdout } = await run("random");
    const l = lines(stdout);
    expect(l.getentropy).toMatch(/^[0-9a-f]{64}$/);
    expect(l.random_get).toMatch(/^[0-9a-f]{600}$/);
    expect(stdout).toContain("getentropy ret 0\n");
    expect(stdout).toContain("random_get ret 0\n");
  });

  describe("poll(): a clock timeout and an fd in one poll_oneoff", () => {
    const fifo = () => {
      const path = join(tmp, `fifo-${Math.random().toString(36).slice(2)}`);
      execFileSync("mkfifo", [path]);
      return openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
    };
    const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;
    for (const clock of ["exact", "virtual"] as const) {
      it(`${clock}: an empty pipe times out on the kernel clock, a pipe with data is readable at once, a clock alone sleeps`, async (ctx) => {
        guard(ctx);
        if (!hasMkfifo) return ctx.skip("SKIPPED: no mkfifo");
        const empty = fifo();
        const full = fifo();
        writeFileSync(full, "data\n");
        const file = join(tmp, "data.txt");
        if (!existsSync(file)) writeFileSync(file, "hello\n");
        try {
          const e = await run("poll", { clock, stdin: empty });
          const f = await run("poll", { clock, stdin: full, args: ["/in/data.txt"], preopen: tmp });
          const le = lines(e.stdout);
          const lf = lines(f.stdout);
          // Nothing to read: poll returns 0 after its 30 ms timeout (on the guest's MONOTONIC).
          expect(field(le.stdin, "ret")).toBe(0n);
          expect(field(le.stdin, "elapsed")).toBeGreaterThanOrEqual(30_000_000n);
          // Data waiting: 1 fd ready, POLLRDNORM, no clock event.
          expect(field(lf.stdin, "ret")).toBe(1n);
          expect(field(lf.stdin, "revents")).toBe(1n);
          // A clock alone.
          expect(field(le.none, "ret")).toBe(0n);
          expect(field(le.none, "elapsed")).toBeGreaterThanOrEqual(30_000_000n);
          if (clock === "virtual") {
            expect(field(le.stdin, "elapsed")).toBe(30_000_000n);
            expect(field(le.none, "elapsed")).toBe(30_000_000n);
            expect(field(lf.stdin, "elapsed")).toBe(0n);
            expect(e.p.stats.waits).toBe(0);
          }
          // A regular file: node:wasi's poll cannot watch one (uvwasi answers perm, 63): passed through as is.
          expect(lf.file).toMatch(/^ret=-1 errno=63 /);
          expect(e.p.stats.runtimePolls).toBeGreaterThan(0);
        } finally {
          closeSync(empty);
          closeSync(full);
        }
      });
    }
  });
});
