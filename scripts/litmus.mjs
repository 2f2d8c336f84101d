// `npm run litmus`: runs every memory-order/*.litmus through herd7 with the model
// memory-order/expected names for it, and compares herd7's verdict (its
// `Observation` line) with the expected one. Exits 1 on any mismatch, on a test
// without an expected verdict (or the reverse), or when HERD7 names a missing
// file; exits 0, saying so loudly, when herd7 is simply not installed.
// Arguments, if any, name the tests to run (default: all). $LITMUS_EXPECTED
// replaces memory-order/expected (the test's negative control uses it).
//
// herd7 is found as $HERD7 (a herd.exe built from herdtools7; its libdir is
// $HERD7_LIBDIR, or <repository>/herd/libdir when HERD7 is <repository>/_build/default/herd/herd.exe),
// else as `herd7` on PATH (an installed herd7 knows its own libdir).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const dir = fileURLToPath(new URL("../memory-order/", import.meta.url));
const VERDICTS = ["Never", "Sometimes", "Always"];

/** The tests in memory-order/, by name (the file name without .litmus), sorted. */
export function litmusFiles() {
  return readdirSync(dir).filter((f) => f.endsWith(".litmus")).map((f) => f.slice(0, -7)).sort();
}

/** memory-order/expected: one `name verdict model` a line; `#` starts a comment. Throws on a malformed or repeated line. */
export function readExpected(text = readFileSync(process.env.LITMUS_EXPECTED ?? join(dir, "expected"), "utf8")) {
  const out = new Map();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [name, verdict, model, ...rest] = line.split(/\s+/);
    if (!model || rest.length || !VERDICTS.includes(verdict) || !model.endsWith(".cat")) throw new Error(`expected, line ${i + 1}: want "name Never|Sometimes|Always model.cat", got "${raw}"`);
    if (out.has(name)) throw new Error(`expected, line ${i + 1}: ${name} is listed twice`);
    out.set(name, { verdict, model });
  }
  return out;
}

/** What does not match between the files and the expected list (empty when every test has exactly one verdict). */
export function mismatchedNames(files = litmusFiles(), expected = readExpected()) {
  return [
    ...files.filter((f) => !expected.has(f)).map((f) => `${f}.litmus has no expected verdict`),
    ...[...expected.keys()].filter((n) => !files.includes(n)).map((n) => `expected lists ${n}, which has no .litmus file`),
  ];
}

/** herd7's verdict for test `name` in its output, or null. */
export function observation(name, stdout) {
  const m = new RegExp(`^Observation ${name.replace(/[.+]/g, "\\$&")} (Never|Sometimes|Always) (\\d+) (\\d+)`, "m").exec(stdout);
  return m && { verdict: m[1], positive: Number(m[2]), negative: Number(m[3]) };
}

/**
 * How to run herd7: { cmd, pre } (arguments before the test's own), or null when none is
 * installed. Throws when HERD7 is set but names no file (a misconfiguration, not an absence).
 */
export function findHerd(env = process.env) {
  if (env.HERD7) {
    const cmd = resolve(env.HERD7);
    if (!existsSync(cmd)) throw new Error(`HERD7=${env.HERD7}: no such file`);
    const guess = cmd.endsWith(join("_build", "default", "herd", "herd.exe")) ? join(dirname(cmd), "../../../herd/libdir") : undefined;
    const lib = env.HERD7_LIBDIR ?? (guess && existsSync(guess) ? guess : undefined);
    return { cmd, pre: lib ? ["-set-libdir", resolve(lib)] : [] };
  }
  const r = spawnSync("herd7", ["-version"], { encoding: "utf8" });
  return r.status === 0 ? { cmd: "herd7", pre: [] } : null;
}

function main(only) {
  const problems = mismatchedNames();
  for (const n of only) if (!litmusFiles().includes(n)) problems.push(`no test named ${n}`);
  if (problems.length) {
    for (const p of problems) console.error(`litmus: ${p}`);
    return 1;
  }
  let herd;
  try {
    herd = findHerd();
  } catch (e) {
    console.error(`litmus: ${e.message}`);
    return 1;
  }
  if (!herd) {
    console.log("litmus: SKIPPED, NOTHING CHECKED: herd7 is not installed (set HERD7 to a built herd.exe, or put herd7 on PATH;");
    console.log("        memory-order/README.md says how to build it).");
    return 0;
  }
  const version = spawnSync(herd.cmd, ["-version"], { encoding: "utf8" }).stdout.trim();
  console.log(`herd7 ${version}`);
  const expected = readExpected();
  const rows = [["test", "model", "expected", "herd7", "pos/neg", "time", ""]];
  let bad = 0;
  for (const name of only.length ? only : litmusFiles()) {
    const { verdict, model } = expected.get(name);
    const r = spawnSync(herd.cmd, [...herd.pre, "-model", model, join(dir, `${name}.litmus`)], { encoding: "utf8", timeout: 300_000 });
    const got = observation(name, r.stdout ?? "");
    const time = /^Time \S+ (\S+)/m.exec(r.stdout ?? "")?.[1];
    const ok = got?.verdict === verdict;
    if (!ok) bad++;
    rows.push([name, model, verdict, got?.verdict ?? "ERROR", got ? `${got.positive}/${got.negative}` : "-", time ? `${time} s` : "-", ok ? "ok" : "MISMATCH"]);
    if (!got) console.error(`litmus: ${name}: no Observation line (exit ${r.status})\n${r.stderr || r.stdout}`);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
  console.log(bad ? `litmus: ${bad} of ${rows.length - 1} tests do not match memory-order/expected` : `litmus: all ${rows.length - 1} tests match memory-order/expected`);
  return bad ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
