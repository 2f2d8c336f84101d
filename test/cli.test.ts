// The CLI as a user runs it: `wasm-vdso snapshot ...` from the package's bin.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.ts";
import { MAX_SNAPSHOT_BYTES, parseSnapshot } from "../src/snapshot.ts";
import { decodeClock } from "./helpers/decode.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/wasm-vdso.js");
const fixtures = join(root, "test/fixtures/vvarsnap");
const files = readdirSync(fixtures).filter((f) => f.endsWith(".bin")).sort().map((f) => join(fixtures, f));
const tmp = mkdtempSync(join(tmpdir(), "wasm-vdso-"));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `main()` in-process; `log` holds stdout and stderr lines in the order they were written. */
async function inProcess(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log: string[] = [];
  const code = await main(args, (s) => (out.push(s), log.push(`out: ${s}`)), (s) => (err.push(s), log.push(`err: ${s}`)));
  return { code, out: out.join("\n"), err: err.join("\n"), errLines: err, log };
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe("wasm-vdso snapshot", () => {
  it("checks the six public snapshots: 42 of 42", () => {
    const r = run("snapshot", ...files);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("42 of 42 clock records exact and within before/after");
    expect(r.out.split("\n").filter((l) => / ok$/.test(l))).toHaveLength(42);
  });

  it("--json: one line per file, every clock id 0..23 in order, kernel values exact", () => {
    const r = run("snapshot", ...files, "--json");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines).toHaveLength(6);
    for (const [i, line] of lines.entries()) {
      const o = JSON.parse(line);
      const s = parseSnapshot(readFileSync(files[i]));
      expect(Object.keys(o)).toEqual(["file", "counter", "clocks"]);
      expect(o.file).toBe(files[i]);
      expect(o.counter).toBe(String(s.tsc));
      expect(o.clocks.map((c: { id: number }) => c.id)).toEqual([...Array(24).keys()]);
      for (const c of o.clocks) {
        if ("fallback" in c) expect(c).toEqual({ id: c.id, fallback: true });
        else {
          expect(Object.keys(c)).toEqual(["id", "sec", "nsec"]);
          expect(typeof c.sec).toBe("string");
          expect(Number.isInteger(c.nsec)).toBe(true);
        }
      }
      for (const rec of s.records) {
        const c = o.clocks[rec.clockId];
        expect({ sec: BigInt(c.sec), nsec: BigInt(c.nsec) }).toEqual(rec.computed);
      }
    }
  });

  it("--counter reaches the overflow path, the backwards clamp and the sign mask exactly", () => {
    for (const f of [files[0], files[5]]) {
      const s = parseSnapshot(readFileSync(f));
      const cycleLast = new DataView(s.vvarPages.buffer, s.vvarPages.byteOffset).getBigUint64(s.flags & 1 ? 4096 + 8 : 8, true);
      const counters = [
        s.tsc,
        s.tsc + (1n << 41n), // beyond max_cycles: 128-bit path
        s.tsc + (1n << 50n),
        cycleLast - 1n, // counter behind cycle_last: bit 62 set, clamp
        (1n << 63n) | s.tsc, // sign bit masked off
        0n,
        (1n << 64n) - 1n,
      ];
      for (const counter of counters) {
        const r = run("snapshot", f, "--json", "--counter", String(counter));
        expect(r.code, r.err).toBe(0);
        const o = JSON.parse(r.out);
        expect(o.counter).toBe(String(counter));
        for (const id of [0, 1, 4, 5, 6, 7, 11]) {
          const want = decodeClock(s, id, counter);
          expect({ id, sec: BigInt(o.clocks[id].sec), nsec: BigInt(o.clocks[id].nsec) }).toEqual({ id, ...want });
        }
      }
      // hex is accepted too
      expect(JSON.parse(run("snapshot", f, "--json", "--counter", "0x" + s.tsc.toString(16)).out).counter).toBe(String(s.tsc));
    }
  });

  it("a record that disagrees is reported and the exit code is 1", () => {
    const bytes = Uint8Array.from(readFileSync(files[0]));
    new DataView(bytes.buffer).setBigInt64(96 + 32, 1n, true); // record 0: computed.tv_nsec
    const f = join(tmp, "tampered.bin");
    writeFileSync(f, bytes);
    const r = run("snapshot", f);
    expect(r.code).toBe(1);
    expect(r.out).toContain("MISMATCH");
    expect(r.out).toContain("6 of 7 clock records");
  });

  it("truncated, garbage and missing files: a clear message, exit 2, no stack trace", () => {
    const good = readFileSync(files[0]);
    const cases: Array<[string, Uint8Array | undefined, RegExp]> = [
      ["truncated.bin", good.subarray(0, 1000), /truncated\.bin: truncated/],
      ["header.bin", good.subarray(0, 40), /header\.bin: truncated/],
      ["garbage.bin", new Uint8Array(25088).fill(0xa5), /garbage\.bin: not a VVARSNAP file/],
      ["missing.bin", undefined, /missing\.bin: no such file/],
    ];
    for (const [name, bytes, why] of cases) {
      const f = join(tmp, name);
      if (bytes) writeFileSync(f, bytes);
      const r = run("snapshot", f);
      expect(r.code, name).toBe(2);
      expect(r.err).toMatch(why);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      noStack(r.err);
    }
    // A bad file does not stop the good ones from being checked.
    const r = run("snapshot", join(tmp, "garbage.bin"), files[0]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("7 of 7");
  });

  it("what is read is bounded by the format's size: /dev/zero, a huge sparse file and a directory are refused at once, one line each", async () => {
    const huge = join(tmp, "huge.bin");
    writeFileSync(huge, "");
    truncateSync(huge, 8 * 2 ** 30); // 8 GiB, sparse: refused by its size, never read
    const big = join(tmp, "big.bin");
    writeFileSync(big, new Uint8Array(MAX_SNAPSHOT_BYTES + 1));
    const cases: [string, RegExp][] = [
      ["/dev/zero", /\/dev\/zero: larger than a VVARSNAP file can be \(at most 1048576 bytes\)/],
      [huge, /huge\.bin: larger than a VVARSNAP file can be/],
      [big, /big\.bin: larger than a VVARSNAP file can be/],
      [tmp, /: is a directory/],
    ];
    for (const [f, why] of cases) {
      const r = await inProcess("snapshot", f, files[0]);
      expect(r.code, f).toBe(2);
      expect(r.errLines, f).toEqual([expect.stringMatching(why)]);
      noStack(r.err);
      expect(r.out).toContain("7 of 7"); // the good file is still checked
    }
    expect(() => parseSnapshot(new Uint8Array(MAX_SNAPSHOT_BYTES + 1))).toThrow(/larger than a VVARSNAP file can be/);
  });

  it("bad arguments: usage and exit 2", () => {
    for (const args of [[], ["snapshot"], ["frobnicate", files[0]], ["snapshot", files[0], "--counter", "abc"],
      ["snapshot", files[0], "--counter", String(1n << 64n)], ["snapshot", files[0], "--bogus"]]) {
      const r = run(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(/wasm-vdso|usage/);
      noStack(r.err);
    }
    expect(run("--help").code).toBe(0);
  });

  it("an error comes before any output: no table header ahead of it, and none at all when no file parsed", async () => {
    const truncated = join(tmp, "early-truncated.bin");
    writeFileSync(truncated, readFileSync(files[0]).subarray(0, 1000));
    const missing = join(tmp, "early-missing.bin");
    for (const opts of [[], ["--json"], ["--counter", "12345"]]) {
      // only bad files: nothing on stdout, one line per file on stderr, exit 2
      const bad = run("snapshot", truncated, missing, ...opts);
      expect(bad.code, opts.join(" ")).toBe(2);
      expect(bad.out).toBe("");
      expect(bad.err.trim().split("\n")).toEqual([expect.stringMatching(/early-truncated\.bin: truncated/), expect.stringMatching(/early-missing\.bin: no such file/)]);
      // bad and good files, in any order: both errors first, then the output for the good one
      const r = await inProcess("snapshot", files[0], truncated, files[1], missing, ...opts);
      expect(r.code).toBe(2);
      expect(r.errLines).toHaveLength(2);
      expect(r.log.slice(0, 2).every((l) => l.startsWith("err: "))).toBe(true);
      expect(r.log.slice(2).every((l) => l.startsWith("out: "))).toBe(true);
      expect(r.log.length).toBeGreaterThan(2);
    }
  });

  it("--counter without --json: every clock id 0..23 per file as the wasm reader answers, no check, exit 0", async () => {
    const counter = "0x123456789";
    const r = run("snapshot", files[0], files[5], "--counter", counter);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^file\s+id\s+clock\s+wasm reader at counter 4886718345$/);
    expect(lines).toHaveLength(1 + 2 * 24);
    expect(r.out).not.toMatch(/clock records|MISMATCH| ok$/m);
    for (const [k, f] of [files[0], files[5]].entries()) {
      const o = JSON.parse(run("snapshot", f, "--json", "--counter", counter).out);
      const rows = lines.slice(1 + 24 * k, 1 + 24 * (k + 1)).map((l) => l.split(/\s{2,}/).map((x) => x.trim()));
      expect(rows.map((row) => row[0])).toEqual(Array(24).fill(f));
      expect(rows.map((row) => Number(row[1]))).toEqual([...Array(24).keys()]);
      for (const [id, row] of rows.entries()) {
        const c = o.clocks[id];
        if (c.fallback) expect(row[3]).toMatch(/^fallback \(-?\d+\)$/);
        else expect(row[3]).toBe(`${c.sec}.${String(c.nsec).padStart(9, "0")}`);
      }
      expect(rows[0][2]).toBe("REALTIME");
      expect(rows[16][2]).toBe("AUX+0");
    }
  });

  it("a closed pipe ends it quietly: no EPIPE stack, exit 0", () => {
    // 300 files of JSON is far more than a pipe buffer holds: the writes after `head` exits fail with EPIPE.
    const many = Array(300).fill(JSON.stringify(files[0])).join(" ");
    for (const cmd of [`snapshot --json ${many}`, `snapshot ${many}`, "ptp --log --clocks 1 --duration 120"]) {
      const r = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" ${cmd} | head -c 10 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { encoding: "utf8" });
      expect(r.stderr, cmd.slice(0, 20)).toBe("status 0\n");
    }
  });
});

describe("wasm-vdso: each subcommand its own flags and help", () => {
  it("a flag of the other subcommand: one line naming the flag and the subcommand, exit 2, nothing on stdout", () => {
    const cases: Array<[string[], string, string]> = [
      [["snapshot", files[0], "--clocks", "3"], "--clocks", "snapshot"],
      [["snapshot", "--log", files[0]], "--log", "snapshot"],
      [["snapshot", files[0], "--duration=60"], "--duration", "snapshot"],
      [["ptp", "--json"], "--json", "ptp"],
      [["ptp", "--counter", "5"], "--counter", "ptp"],
    ];
    for (const [args, flag, command] of cases) {
      const r = run(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.out).toBe("");
      const lines = r.err.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(flag);
      expect(lines[0]).toContain(command);
      expect(lines[0]).toMatch(/not a (snapshot|ptp) option/);
    }
  });

  it("other usage errors: one line, exit 2, nothing on stdout", async () => {
    for (const args of [["snapshot", files[0], "--bogus"], ["ptp", "--bogus"], ["ptp", "extra"], ["ptp", "--clocks", "9"], ["ptp", "--duration", "1e3"],
      ["ptp", "--seed", "-1"], ["ptp", "--log=yes"], ["snapshot", files[0], "--counter"], ["snapshot"], ["--json", "snapshot", files[0]], ["frobnicate", "--help"]]) {
      const r = await inProcess(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.out).toBe("");
      expect(r.errLines, args.join(" ")).toHaveLength(1);
      expect(r.err).toMatch(/^wasm-vdso/);
    }
  });

  it("--help: the relevant usage on stdout, exit 0", () => {
    const top = run("--help");
    expect([top.code, top.err]).toEqual([0, ""]);
    expect(top.out).toMatch(/usage: wasm-vdso snapshot/);
    expect(top.out).toMatch(/usage: wasm-vdso ptp/);
    for (const args of [["snapshot", "--help"], ["snapshot", files[0], "-h"], ["snapshot", "--help", "--clocks", "3"]]) {
      const r = run(...args);
      expect([r.code, r.err], args.join(" ")).toEqual([0, ""]);
      expect(r.out).toMatch(/^usage: wasm-vdso snapshot <file>\.\.\. \[--json\] \[--counter <u64>\]/);
      expect(r.out).not.toMatch(/--clocks|wasm-vdso ptp/);
    }
    for (const args of [["ptp", "--help"], ["ptp", "-h", "--clocks", "2"]]) {
      const r = run(...args);
      expect([r.code, r.err], args.join(" ")).toEqual([0, ""]);
      expect(r.out).toMatch(/^usage: wasm-vdso ptp \[--hosts H\] \[--clocks N\] \[--duration S\] \[--seed K\] \[--log\]/);
      expect(r.out).not.toMatch(/--json|--counter|wasm-vdso snapshot/);
    }
  });

  it("starts fast: --help loads the CLI module only, snapshot never loads the PTP simulation", () => {
    // A resolve hook lists every module the process loads.
    const hook = join(tmp, "trace-hook.mjs");
    writeFileSync(hook, `import { appendFileSync } from "node:fs";
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(process.env.WASM_VDSO_TRACE, r.url + "\\n"); return r; }`);
    const register = `data:text/javascript,import{register}from"node:module";register(${JSON.stringify(pathToFileURL(hook).href)})`;
    const loaded = (...args: string[]) => {
      const trace = join(tmp, `trace-${args[0]}.txt`);
      writeFileSync(trace, "");
      const r = spawnSync(process.execPath, ["--import", register, bin, ...args], { encoding: "utf8", env: { ...process.env, WASM_VDSO_TRACE: trace } });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(trace, "utf8").trim().split("\n").filter((u) => u.startsWith("file:")).map((u) => u.slice(u.indexOf("/dist/") + 1 || 0));
    };
    expect(loaded("--help").filter((u) => u.startsWith("dist/"))).toEqual(["dist/src/cli.js"]);
    const snap = loaded("snapshot", files[0]);
    expect(snap).toContain("dist/src/replay.js");
    expect(snap.filter((u) => /\/ptp\//.test(u))).toEqual([]);
  });
});

/** The ptp table's clock rows, and a row's cells. */
const tableRows = (out: string) => out.split("\n").filter((l) => /^\| (ptp|CLOCK_AUX)/.test(l));
const cellsOf = (row: string) => row.split("|").map((c) => c.trim());

describe("wasm-vdso ptp", () => {
  it("shorter than the 60 s settling time: rms and max are n/a, not 0", async () => {
    const r = await inProcess("ptp", "--clocks", "2", "--duration", "30");
    expect(r.code).toBe(0);
    const rows = tableRows(r.out);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const cells = cellsOf(row);
      expect(cells.slice(5, 7), row).toEqual(["n/a", "n/a"]);
      expect(cells[7], row).toMatch(/^-?\d+$/); // freq is still there
    }
  });

  it("past the settling time: rms and max are numbers", async () => {
    const r = await inProcess("ptp", "--clocks", "1", "--duration", "90");
    expect(r.code).toBe(0);
    const rows = tableRows(r.out);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const [rms, max] = cellsOf(row).slice(5, 7);
      expect(Number(rms), row).toBeGreaterThan(0);
      expect(Number(max), row).toBeGreaterThan(0);
    }
  });
});
