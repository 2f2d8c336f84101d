// The litmus tests of the seqlock's ordering (memory-order/): every test has
// exactly one expected verdict, always; herd7 agrees with each of them where
// herd7 is installed (scripts/litmus.mjs, `npm run litmus`).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { dir, findHerd, litmusFiles, mismatchedNames, observation, readExpected } from "../scripts/litmus.mjs";

const script = fileURLToPath(new URL("../scripts/litmus.mjs", import.meta.url));
const herd = findHerd();

describe("memory-order litmus tests", () => {
  it("every .litmus file has one expected verdict, and every expected verdict a file", () => {
    expect(litmusFiles().length).toBeGreaterThan(0);
    expect(mismatchedNames()).toEqual([]);
    // negative control: a missing file and a missing verdict are both reported
    const expected = readExpected();
    const [first, ...rest] = litmusFiles();
    expect(mismatchedNames(rest, expected)).toEqual([`expected lists ${first}, which has no .litmus file`]);
    expect(mismatchedNames([...rest, first, "Z9-new"], expected)).toEqual(["Z9-new.litmus has no expected verdict"]);
  });

  it("each file names itself in its header, and has a description line", () => {
    for (const name of litmusFiles()) {
      const [head, desc] = readFileSync(join(dir, `${name}.litmus`), "utf8").split("\n");
      expect(head).toMatch(new RegExp(`^(AArch64|C) ${name}$`));
      expect(desc).toMatch(/^".+"$/);
      const model = readExpected().get(name)!.model;
      expect(model).toBe(head.startsWith("C ") ? "rc11.cat" : "aarch64.cat");
    }
  });

  it("expects some tests (the negative controls) to fail, and refuses a malformed expected line", () => {
    expect([...readExpected().values()].filter((e) => e.verdict === "Sometimes").length).toBeGreaterThan(0);
    expect(() => readExpected("R1 Nevr aarch64.cat")).toThrow(/line 1/);
    expect(() => readExpected("R1 Never aarch64.cat\nR1 Never aarch64.cat")).toThrow(/twice/);
  });

  it("reads herd7's verdict line", () => {
    const out = "Test R1 Allowed\nStates 3\nNo\nObservation R1 Never 0 3\nObservation R10 Sometimes 1 2\n";
    expect(observation("R1", out)).toEqual({ verdict: "Never", positive: 0, negative: 3 });
    expect(observation("R10", out)?.verdict).toBe("Sometimes");
    expect(observation("R2", out)).toBeNull();
  });

  it.skipIf(!herd)(`herd7 gives every test its expected verdict${herd ? "" : " (SKIPPED: herd7 is not installed; set HERD7 or put herd7 on PATH, see memory-order/README.md)"}`, () => {
    const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 600_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (const name of litmusFiles()) expect(r.stdout).toMatch(new RegExp(`^${name} .* ok$`, "m"));
  }, 600_000);

  it.skipIf(!herd)(`the script fails when herd7 disagrees${herd ? "" : " (SKIPPED: herd7 is not installed)"}`, () => {
    const name = "R0-reader-plain-data"; // herd7: Sometimes
    const flipped = readFileSync(join(dir, "expected"), "utf8").replace(new RegExp(`^${name}(\\s+)Sometimes`, "m"), `${name}$1Never`);
    const at = join(mkdtempSync(join(tmpdir(), "litmus-")), "expected");
    writeFileSync(at, flipped);
    expect(readExpected(flipped).get(name)?.verdict).toBe("Never");
    const r = spawnSync(process.execPath, [script, name], { encoding: "utf8", timeout: 300_000, env: { ...process.env, LITMUS_EXPECTED: at } });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${name} .*Never\\s+Sometimes.*MISMATCH$`, "m"));
  }, 300_000);
});
