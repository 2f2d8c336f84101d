// The CLI as a user runs it: `wasm-vdso snapshot ...` from the package's bin.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseSnapshot } from "../src/snapshot.ts";
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
});
