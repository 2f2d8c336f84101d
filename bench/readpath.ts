/**
 * `npm run bench:readpath`: where the read path's time goes over the floor.
 * Builds the inline module (assembly/inline.ts) once as is and once per
 * ablation (`--use ABLATE_X=1`, each dropping one piece of the fast path:
 * not valid readers), then runs each build's inlined and called MONOTONIC
 * loops against one floor (bare_loop) in alternating 3 ms slices, the floor
 * before and after each slice. A piece's cost is the full build's ratio
 * minus the ratio without it. Prints a table, writes bench/results/readpath-*.json.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOCK_MONOTONIC } from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { boundReader, sandwich, writeResult } from "./sandwich.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const PIECES: Record<string, { flags: string[]; what: string }> = {
  full: { flags: [], what: "the reader as shipped" },
  dispatch: { flags: ["ABLATE_DISPATCH"], what: "clock id range and family mask" },
  odd: { flags: ["ABLATE_ODD"], what: "odd-seq test (writer busy, namespace page)" },
  mode: { flags: ["ABLATE_MODE"], what: "counter-mode and arch-page test" },
  max_cycles: { flags: ["ABLATE_MAX_CYCLES"], what: "max_cycles test (overflow protect)" },
  carry: { flags: ["ABLATE_CARRY"], what: "ns past a second test (carry)" },
  slow: { flags: ["ABLATE_SLOW"], what: "the out-of-line call to the full algorithm" },
  user_ok: { flags: ["ABLATE_USER_OK"], what: "result pointer check (called path only)" },
};
PIECES.all = { flags: Object.values(PIECES).flatMap((p) => p.flags), what: "all of the above" };

const dir = mkdtempSync(join(tmpdir(), "wasm-vdso-readpath-"));
const asc = join(root, "node_modules/.bin/asc");
for (const [name, p] of Object.entries(PIECES)) {
  const args = ["assembly/inline.ts", "--config", "asconfig.stress.json", "--target", "inline", "-o", join(dir, `${name}.wasm`)];
  execFileSync(asc, [...args, ...p.flags.flatMap((f) => ["--use", `${f}=1`])], { cwd: root, stdio: "pipe" });
}

const k = await Kernel.create({ counter: "shared", tickerPeriodNs: 50_000 });
k.startTicking(250);
await new Promise((r) => setTimeout(r, 300)); // the ticker measures its period
type Loops = { inline_loop(c: number, n: number): bigint; called_loop(c: number, n: number): bigint; bare_loop(n: number): bigint };
const load = (name: string) => boundReader<Loops>(k, readFileSync(join(dir, `${name}.wasm`)), name);

const N = 1000;
const floorBuild = await load("full");
const floor = () => floorBuild.bare_loop(N);
const fns: Record<string, () => unknown> = {};
for (const name of Object.keys(PIECES)) {
  const e = await load(name);
  // Without the slow path a read that needs it (a writer mid-update, a carry) fails; rare, so not an error there.
  const ok = (x: bigint) => { if (x < 0n && !PIECES[name].flags.includes("ABLATE_SLOW")) throw new Error(`${name}: a read failed (${x})`); };
  if (name !== "user_ok") fns[`inlined ${name}`] = () => ok(e.inline_loop(CLOCK_MONOTONIC, N));
  fns[`called ${name}`] = () => ok(e.called_loop(CLOCK_MONOTONIC, N));
}
const ROUNDS = Number(process.env.READPATH_ROUNDS ?? 61);
const { rows, refNs: floorNs } = await sandwich(fns, floor, N, ROUNDS, 200);
k.close();

const results = Object.keys(fns).map((name) => {
  const [path, piece] = name.split(" ");
  const { ratio, ns } = rows[name];
  const full = rows[`${path} full`].ratio;
  return { path, piece, what: PIECES[piece].what, ratio, ns, cost: piece === "full" || piece === "all" ? undefined : full - ratio };
});
const lines = [
  `| path | piece dropped | ratio to floor | ns per read | cost of the piece (floor units) |`,
  `| --- | --- | ---: | ---: | ---: |`,
  ...results.map((x) => `| ${x.path} | ${x.piece}: ${x.what} | ${x.ratio.toFixed(3)} | ${x.ns.toFixed(2)} | ${x.cost === undefined ? "-" : x.cost.toFixed(3)} |`),
];
console.log(`\nread path ablation, ${new Date().toISOString()}, ${cpus()[0]?.model}, Node ${process.version}, ${ROUNDS} rounds of 3 ms slices, floor median ${floorNs.toFixed(2)} ns\n`);
console.log(lines.join("\n"));
writeResult(root, "readpath", { node: process.version, cpu: cpus()[0]?.model, rounds: ROUNDS, floorNs, results });
process.exit(0);
