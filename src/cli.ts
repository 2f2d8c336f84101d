/**
 * `wasm-vdso snapshot <file>... [--json] [--counter <u64>]`: replays real
 * kernel vDSO pages through the wasm reader. Exit 0 when every record matches,
 * 1 on a mismatch, 2 on bad input (with a one-line message, never a stack).
 *
 * `wasm-vdso ptp [...]`: the PTP simulation. Each subcommand has its own flags
 * (COMMANDS below) and imports what it needs only when it runs, so `--help` and
 * `snapshot` never load the simulation.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { ClockAnswer } from "./replay.ts";
import type { Snapshot } from "./snapshot.ts";

type Out = (s: string) => void;
type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | undefined>;

const SNAPSHOT_USAGE = `usage: wasm-vdso snapshot <file>... [--json] [--counter <u64>]

Loads VVARSNAP files (real Linux vDSO data pages) into wasm memory and asks
the wasm vDSO reader for every clock id 0..23.
  (default)        check every recorded kernel answer: exact, and before <= ours <= after
  --json           print one JSON object per file, one line each
  --counter <u64>  evaluate at this counter value instead of the stored TSC (no check);
                   decimal or 0x hex
Exit 0: all records match; 1: a mismatch; 2: bad arguments or a bad file.`;

const PTP_USAGE = `usage: wasm-vdso ptp [--hosts H] [--clocks N] [--duration S] [--seed K] [--log]

N simulated PTP clocks (PHC + ptp4l PI servo + phc2sys onto CLOCK_AUX+n) in
virtual time; ptp4l/phc2sys logs (summaries unless --log) and a final table.
  --hosts H     1..32 simulated hosts, each its own kernel and store, default 1
  --clocks N    1..8 per host (Linux has eight aux clocks), default 8
  --duration S  seconds of virtual time, default 3600 (statistics start at 60 s)
  --seed K      0..4294967295, default 1; same seed, same output
  --log         every ptp4l/phc2sys line instead of 60 s summaries`;

const USAGE = `usage: wasm-vdso snapshot <file>... [--json] [--counter <u64>]
       wasm-vdso ptp [--hosts H] [--clocks N] [--duration S] [--seed K] [--log]
       wasm-vdso [snapshot|ptp] --help`;

class UsageError extends Error {}

const help = { type: "boolean", short: "h" } as const;

/** Each subcommand: its flags, its usage, and what runs it. A new flag goes into one `options` table. */
const COMMANDS: Record<string, { options: Options; positionals: boolean; usage: string; run: (files: string[], v: Values, out: Out, err: Out) => Promise<number> }> = {
  snapshot: {
    options: { json: { type: "boolean" }, counter: { type: "string" }, help },
    positionals: true,
    usage: SNAPSHOT_USAGE,
    run: snapshotCommand,
  },
  ptp: {
    options: { hosts: { type: "string" }, clocks: { type: "string" }, duration: { type: "string" }, seed: { type: "string" }, log: { type: "boolean" }, help },
    positionals: false,
    usage: PTP_USAGE,
    run: (_files, v, out, err) => ptpCommand(v, out, err),
  },
};

const U64_MAX = (1n << 64n) - 1n;

export function parseCounter(text: string): bigint {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new UsageError(`--counter ${JSON.stringify(text)} is not an unsigned integer`);
  const v = BigInt(text);
  if (v > U64_MAX) throw new UsageError(`--counter ${text} does not fit in 64 bits`);
  return v;
}

/** `--help` or `-h` anywhere before a `--`: help wins over every other argument. */
function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** One line for a flag parseArgs refused, naming the subcommand (and the one the flag belongs to). */
function flagError(command: string, e: Error & { code?: string }): string {
  const m = /^Unknown option '([^']+)'/.exec(e.message);
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && m) {
    const flag = m[1];
    const name = flag.replace(/^--?/, "").replace(/=.*$/, "");
    const owner = Object.keys(COMMANDS).find((c) => c !== command && Object.hasOwn(COMMANDS[c].options, name));
    return owner
      ? `wasm-vdso ${command}: ${flag} is a \`wasm-vdso ${owner}\` option, not a ${command} option (see wasm-vdso ${command} --help)`
      : `wasm-vdso ${command}: unknown option ${flag} (see wasm-vdso ${command} --help)`;
  }
  const p = /^Unexpected argument '([^']+)'/.exec(e.message);
  if (e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && p) return `wasm-vdso ${command}: unexpected argument ${JSON.stringify(p[1])} (see wasm-vdso ${command} --help)`;
  return `wasm-vdso ${command}: ${e.message.split("\n")[0]}`;
}

export async function main(argv: string[], out: Out = (s) => process.stdout.write(s + "\n"), err: Out = (s) => process.stderr.write(s + "\n")): Promise<number> {
  const [command, ...rest] = argv;
  const cmd = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!cmd) {
    if (command === undefined) {
      err(USAGE);
      return 2;
    }
    if (command.startsWith("-") && wantsHelp(argv)) {
      out(`${SNAPSHOT_USAGE}\n\n${PTP_USAGE}`);
      return 0;
    }
    err(command.startsWith("-")
      ? `wasm-vdso: the command comes first: wasm-vdso snapshot|ptp ... (see wasm-vdso --help)`
      : `wasm-vdso: unknown command ${JSON.stringify(command)} (see wasm-vdso --help)`);
    return 2;
  }
  if (wantsHelp(rest)) {
    out(cmd.usage);
    return 0;
  }
  let args;
  try {
    args = parseArgs({ args: rest, allowPositionals: cmd.positionals, strict: true, options: cmd.options });
  } catch (e) {
    err(flagError(command, e as Error));
    return 2;
  }
  return cmd.run(args.positionals, args.values as Values, out, err);
}

function jsonLine(file: string, counter: bigint, clocks: ClockAnswer[]): string {
  const items = clocks.map((c) =>
    "sec" in c ? `{"id":${c.id},"sec":"${c.sec}","nsec":${c.nsec}}` : `{"id":${c.id},"fallback":true}`,
  );
  return `{"file":${JSON.stringify(file)},"counter":"${counter}","clocks":[${items.join(",")}]}`;
}

const fmt = (t: { sec: bigint; nsec: bigint | number }) => `${t.sec}.${String(t.nsec).padStart(9, "0")}`;
const answer = (c: ClockAnswer) => ("sec" in c ? fmt(c) : `fallback (${c.ret})`);

/**
 * A file's bytes, if there are at most `max`: a larger regular file is
 * refused by its size, and anything else (a device such as /dev/zero, a pipe)
 * is read no further than `max + 1` bytes. Errors carry a code (E2BIG, EISDIR).
 */
function readAtMost(file: string, max: number): Uint8Array {
  const fd = openSync(file, "r");
  try {
    const st = fstatSync(fd);
    const refuse = (code: string) => Object.assign(new Error(code), { code });
    if (st.isDirectory()) throw refuse("EISDIR");
    if (st.isFile() && st.size > max) throw refuse("E2BIG");
    const buf = new Uint8Array(max + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > max) throw refuse("E2BIG");
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

async function snapshotCommand(files: string[], v: Values, out: Out, err: Out): Promise<number> {
  if (files.length === 0) {
    err(`wasm-vdso snapshot: no file given (see wasm-vdso snapshot --help)`);
    return 2;
  }
  let counter: bigint | undefined;
  try {
    counter = v.counter === undefined ? undefined : parseCounter(v.counter as string);
  } catch (e) {
    err(`wasm-vdso snapshot: ${(e as Error).message}`);
    return 2;
  }
  const json = v.json === true;
  const { MAX_SNAPSHOT_BYTES, parseSnapshot, SnapshotError } = await import("./snapshot.ts");

  // Every file is read and parsed before anything goes to stdout: the errors come first,
  // one line each, and the table (of the good files) after them.
  let status = 0;
  const snaps: Array<{ file: string; snap: Snapshot }> = [];
  for (const file of files) {
    try {
      snaps.push({ file, snap: parseSnapshot(readAtMost(file, MAX_SNAPSHOT_BYTES)) });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = e instanceof SnapshotError ? e.message
        : code === "ENOENT" ? "no such file"
        : code === "EISDIR" ? "is a directory"
        : code === "EACCES" ? "permission denied"
        : code === "E2BIG" ? `larger than a VVARSNAP file can be (at most ${MAX_SNAPSHOT_BYTES} bytes)`
        : (e as Error).message;
      err(`wasm-vdso: ${file}: ${why}`);
      status = 2;
    }
  }
  if (snaps.length === 0) return status;

  const { checkRecords, clockName, Replay } = await import("./replay.ts");
  const replay = await Replay.create();
  if (!json) {
    out(counter === undefined
      ? ["file", "id", "clock".padEnd(18), "wasm reader".padStart(22), "recorded".padStart(22), "kernel before".padStart(22), "kernel after".padStart(22), "result"].join("  ")
      : ["file", "id", "clock".padEnd(18), `wasm reader at counter ${counter}`].join("  "));
  }
  let records = 0;
  let good = 0;
  for (const { file, snap } of snaps) {
    replay.load(snap);
    const clocks = replay.clocks(counter);
    if (json) out(jsonLine(file, replay.counter, clocks));
    if (counter !== undefined) {
      // No check at a counter of the user's: every clock id 0..23, as the wasm reader answers.
      if (!json) for (const c of clocks) out([file, String(c.id).padStart(2), clockName(c.id).padEnd(18), answer(c)].join("  "));
      continue;
    }
    for (const c of checkRecords(snap, clocks)) {
      records++;
      const ok = c.exact && c.inRange;
      if (ok) good++;
      else if (status === 0) status = 1;
      if (json) {
        if (!ok) err(`wasm-vdso: ${file}: ${clockName(c.clockId)} does not match the kernel's answer`);
        continue;
      }
      out(
        [file, String(c.clockId).padStart(2), clockName(c.clockId).padEnd(18), answer(c.answer).padStart(22), fmt(c.expected).padStart(22),
          fmt(c.before).padStart(22), fmt(c.after).padStart(22), ok ? "ok" : c.exact ? "OUT OF RANGE" : "MISMATCH"].join("  "),
      );
    }
  }
  if (counter === undefined && !json && records > 0) {
    out(`${good} of ${records} clock records exact and within before/after`);
  }
  return status;
}

/**
 * The simulation's table with "n/a" for rms and max where a servo has no settled
 * samples (it did not lock after the first 60 s, or the run was shorter): the
 * table's 0.0 / 0 there would read as a perfect clock.
 */
export function ptpTable(sim: { table(): string; ptp4l: Array<{ stats: { n: number } }>; phc2sys: Array<{ ptp: unknown; stats: { n: number } }> }): string {
  const rows = sim.table().split("\n");
  const stats: Array<{ n: number }> = [];
  for (const p of sim.ptp4l) {
    stats.push(p.stats);
    const s = sim.phc2sys.find((x) => x.ptp === p);
    if (s) stats.push(s.stats);
  }
  if (rows.length !== stats.length + 2) return rows.join("\n"); // a table of another shape: left as it is
  return rows
    .map((row, i) => {
      if (i < 2 || stats[i - 2].n > 0) return row;
      const cells = row.split(" | "); // "| name", servo, state, time to s2, rms, max, freq, "oscillator |"
      cells[4] = "n/a";
      cells[5] = "n/a";
      return cells.join(" | ");
    })
    .join("\n");
}

async function ptpCommand(v: Values, out: Out, err: Out): Promise<number> {
  const num = (name: string, dflt: number, lo: number, hi: number) => {
    const text = v[name] as string | undefined;
    if (text === undefined) return dflt;
    const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new UsageError(`--${name} ${JSON.stringify(text)} is not an integer in ${lo}..${hi}`);
    return n;
  };
  let hosts, clocks, durationS, seed;
  try {
    hosts = num("hosts", 1, 1, 32);
    clocks = num("clocks", 8, 1, 8);
    durationS = num("duration", 3600, 1, 30 * 86400);
    seed = num("seed", 1, 0, 0xffffffff);
  } catch (e) {
    err(`wasm-vdso ptp: ${(e as Error).message}`);
    return 2;
  }
  const { runPtpHosts } = await import("./ptp/run.ts");
  const t0 = performance.now();
  const sims = await runPtpHosts({ hosts, clocks, durationS, seed, log: v.log === true, out });
  sims.forEach((sim, h) => {
    out(hosts > 1 ? `\nhost${h}` : "");
    out(ptpTable(sim));
  });
  const what = hosts > 1 ? `${hosts} hosts x ${clocks} clocks` : `${clocks} clocks`;
  out(`\n${durationS} s of virtual time for ${what} in ${((performance.now() - t0) / 1000).toFixed(1)} s (seed ${seed})`);
  return 0;
}
