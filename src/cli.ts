/**
 * `wasm-vdso snapshot <file>... [--json] [--counter <u64>]`: replays real
 * kernel vDSO pages through the wasm reader. Exit 0 when every record matches,
 * 1 on a mismatch, 2 on bad input (with a one-line message, never a stack).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkRecords, clockName, Replay, type ClockAnswer } from "./replay.ts";
import { parseSnapshot, SnapshotError } from "./snapshot.ts";
import { U64_MAX } from "./time.ts";

const USAGE = `usage: wasm-vdso snapshot <file>... [--json] [--counter <u64>]
       wasm-vdso ptp [--clocks N] [--duration S] [--seed K] [--log]

Loads VVARSNAP files (real Linux vDSO data pages) into wasm memory and asks
the wasm vDSO reader for every clock id 0..23.
  (default)        check every recorded kernel answer: exact, and before <= ours <= after
  --json           print one JSON object per file, one line each
  --counter <u64>  evaluate at this counter value instead of the stored TSC (no check)

ptp: N simulated PTP clocks (PHC + ptp4l PI servo + phc2sys onto CLOCK_AUX+n) in
virtual time; ptp4l/phc2sys logs (summaries unless --log) and a final table.
  --clocks N (1..8, default 8)  --duration S (default 3600)  --seed K (default 1)`;

class UsageError extends Error {}


export function parseCounter(text: string): bigint {
  let v: bigint;
  try {
    if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new Error();
    v = BigInt(text);
  } catch {
    throw new UsageError(`--counter ${JSON.stringify(text)} is not an unsigned integer`);
  }
  if (v > U64_MAX) throw new UsageError(`--counter ${text} does not fit in 64 bits`);
  return v;
}

function jsonLine(file: string, counter: bigint, clocks: ClockAnswer[]): string {
  const items = clocks.map((c) =>
    "sec" in c ? `{"id":${c.id},"sec":"${c.sec}","nsec":${c.nsec}}` : `{"id":${c.id},"fallback":true}`,
  );
  return `{"file":${JSON.stringify(file)},"counter":"${counter}","clocks":[${items.join(",")}]}`;
}

const fmt = (t: { sec: bigint; nsec: bigint | number }) => `${t.sec}.${String(t.nsec).padStart(9, "0")}`;

export async function main(argv: string[], out = (s: string) => process.stdout.write(s + "\n"), err = (s: string) => process.stderr.write(s + "\n")): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean" }, counter: { type: "string" }, help: { type: "boolean", short: "h" },
        clocks: { type: "string" }, duration: { type: "string" }, seed: { type: "string" }, log: { type: "boolean" },
      },
    });
  } catch (e) {
    err(`wasm-vdso: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    out(USAGE);
    return 0;
  }
  const [command, ...files] = args.positionals;
  if (command === "ptp") return ptpCommand(args.values, out, err);
  if (command !== "snapshot" || files.length === 0) {
    err(command && command !== "snapshot" ? `wasm-vdso: unknown command ${JSON.stringify(command)}\n${USAGE}` : USAGE);
    return 2;
  }
  let counter: bigint | undefined;
  try {
    counter = args.values.counter === undefined ? undefined : parseCounter(args.values.counter);
  } catch (e) {
    err(`wasm-vdso: ${(e as Error).message}`);
    return 2;
  }

  const replay = await Replay.create();
  if (counter === undefined && !args.values.json) {
    out(["file", "id", "clock".padEnd(16), "wasm reader".padStart(22), "recorded".padStart(22), "kernel before".padStart(22), "kernel after".padStart(22), "result"].join("  "));
  }
  let records = 0;
  let good = 0;
  let status = 0;
  for (const file of files) {
    let snap;
    try {
      snap = parseSnapshot(readFileSync(file));
    } catch (e) {
      const why = e instanceof SnapshotError ? e.message : (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
      err(`wasm-vdso: ${file}: ${why}`);
      status = 2;
      continue;
    }
    replay.load(snap);
    const clocks = replay.clocks(counter);
    if (args.values.json) out(jsonLine(file, replay.counter, clocks));
    if (counter !== undefined) continue;
    for (const c of checkRecords(snap, clocks)) {
      records++;
      const ok = c.exact && c.inRange;
      if (ok) good++;
      else if (status === 0) status = 1;
      if (args.values.json) {
        if (!ok) err(`wasm-vdso: ${file}: ${clockName(c.clockId)} does not match the kernel's answer`);
        continue;
      }
      const ours = "sec" in c.answer ? fmt(c.answer) : `fallback (${c.answer.ret})`;
      out(
        [file, String(c.clockId).padStart(2), clockName(c.clockId).padEnd(16), ours.padStart(22), fmt(c.expected).padStart(22),
          fmt(c.before).padStart(22), fmt(c.after).padStart(22), ok ? "ok" : c.exact ? "OUT OF RANGE" : "MISMATCH"].join("  "),
      );
    }
  }
  if (counter === undefined && !args.values.json && records > 0) {
    out(`${good} of ${records} clock records exact and within before/after`);
  }
  return status;
}

async function ptpCommand(v: { clocks?: string; duration?: string; seed?: string; log?: boolean }, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const num = (name: string, text: string | undefined, dflt: number, lo: number, hi: number) => {
    if (text === undefined) return dflt;
    const n = Number(text);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${name} ${JSON.stringify(text)} is not an integer in ${lo}..${hi}`);
    return n;
  };
  let clocks, durationS, seed;
  try {
    clocks = num("clocks", v.clocks, 8, 1, 8);
    durationS = num("duration", v.duration, 3600, 1, 30 * 86400);
    seed = num("seed", v.seed, 1, 0, 0xffffffff);
  } catch (e) {
    err(`wasm-vdso: ${(e as Error).message}`);
    return 2;
  }
  const { runPtp } = await import("./ptp/run.ts");
  const t0 = performance.now();
  const sim = await runPtp({ clocks, durationS, seed, log: v.log ?? false, out });
  out("");
  out(sim.table());
  out(`\n${durationS} s of virtual time for ${clocks} clocks in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${seed})`);
  return 0;
}
