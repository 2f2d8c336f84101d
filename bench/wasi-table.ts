/**
 * `npm run wasi:table`: what each WASI runtime answers for a guest's clocks and
 * randomness, with and without wasm-vdso (the README's table): the clock ids
 * it answers, the resolution it reports against the smallest step seen, a bad
 * id, a 50 ms sleep (relative and absolute, through the runtime's poll_oneoff
 * or the provider's), and random_get into a shared memory.
 */
import { WASI } from "node:wasi";
import { WASI as ShimWASI } from "@bjorn3/browser_wasi_shim";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { storeMemory } from "../src/datastore.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { createReader } from "../src/reader.ts";
import { wasiClockImports } from "../src/wasi.ts";
import { nodePlatform } from "./node.ts";
import { type Guest, wasiGuests } from "./rows.ts";

const guestMemory = storeMemory(true);
guestMemory.grow(40 - guestMemory.buffer.byteLength / 65536);
const exact = await Kernel.create({ counter: "host-call" });
const shared = await Kernel.create({ counter: "shared", memory: guestMemory });
exact.startTicking();
shared.startTicking();
const provider = await createReader(exact);
const guests = await wasiGuests(nodePlatform, provider, await createReader(shared), guestMemory);
const sharedGuestModule = new WebAssembly.Module(readFileSync(new URL("../build/guest-shared.wasm", import.meta.url)));

function granularity(g: Guest): bigint {
  let min = 1n << 62n;
  let prev = g.now(1, 0n);
  for (let i = 0; i < 200_000; i++) {
    const t = g.now(1, 0n);
    if (t !== prev && t - prev < min) min = t - prev;
    prev = t;
  }
  return min;
}

/** random_get into a shared memory (Web Crypto refuses shared views). */
function onShared(name: string, g: Guest): string {
  if (name.startsWith("wasm-vdso")) return g.random(64) === 0 ? "yes (crypto key, ChaCha20 in wasm)" : "fails";
  try {
    const mem = new WebAssembly.Memory({ initial: 40, maximum: 64, shared: true });
    const w = name.startsWith("node") ? new WASI({ version: "preview1" }) : new ShimWASI([], [], []);
    const over = name.includes("wasm-vdso") ? wasiClockImports(provider, () => mem) : {};
    const imp = { ...(w as { wasiImport: Record<string, unknown> }).wasiImport, ...over };
    const i = new WebAssembly.Instance(sharedGuestModule, { env: { memory: mem }, wasi_snapshot_preview1: imp as WebAssembly.ModuleImports });
    (w as { initialize(i: unknown): void }).initialize(i);
    const err = (i.exports as unknown as Guest).random(64);
    if (err !== 0) return `errno ${err}`;
    return name.includes("wasm-vdso") ? "yes (crypto key, ChaCha20 in wasm)" : name.startsWith("browser") ? "answers, but with Math.random (Web Crypto refuses shared views)" : "yes";
  } catch (e) {
    return `fails: ${(e as Error).message.split("\n")[0]}`;
  }
}

/** One 50 ms MONOTONIC sleep in a child (bench/wasi-sleep.ts), killed after 10 s. */
function sleep(row: string, mode: "rel" | "abs"): string {
  const script = fileURLToPath(new URL("./wasi-sleep.ts", import.meta.url));
  const r = spawnSync(process.execPath, [...process.execArgv, script, row, mode], { encoding: "utf8", timeout: 10_000 });
  const line = r.stdout?.split("\n").find((l) => l.startsWith("{"));
  if (!line) return r.signal ? "did not return in 10 s" : `failed (${r.status})`;
  const { err, guestNs, wallMs } = JSON.parse(line) as { err: number; guestNs: number; wallMs: number };
  return err ? `errno ${err}` : `${(guestNs / 1e6).toFixed(1)} ms by its clock, ${wallMs.toFixed(1)} ms wall`;
}
const sleeps = (row: string) => `relative: ${sleep(row, "rel")}; absolute: ${sleep(row, "abs")}`;

const table = [
  "| runtime | clock ids answered (0-3) | resolution reported / smallest step seen (MONOTONIC) | bad id (7) | sleep 50 ms on MONOTONIC (poll_oneoff) | random_get on shared memory |",
  "| --- | --- | --- | --- | --- | --- |",
];
for (const [name, g] of Object.entries(guests)) {
  const ids = [0, 1, 2, 3].map((id) => (g.now(id, 0n) >= 0n ? String(id) : `${id} (errno ${-g.now(id, 0n)})`)).join(", ");
  table.push(`| ${name} | ${ids} | ${g.res(1)} ns / ${granularity(g)} ns | errno ${-g.now(7, 0n)} | ${sleeps(name)} | ${onShared(name, g)} |`);
}
console.log(table.join("\n"));
console.log(`\nWith \`clock: "virtual"\` (createWasiProvider), the same sleep: ${sleeps("virtual")}.`);
exact.close();
shared.close();
process.exit(0);
