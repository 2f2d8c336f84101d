// A thread that adopts a store when told to: test/adopt.test.ts starts two and
// releases them at once, round after round. Messages in: { round } (get ready,
// then adopt as soon as ctrl[0] reaches round), { close } (close the kernel it
// won). Out: { round, won, token } or { round, error }, and { closed }.
import { parentPort, workerData } from "node:worker_threads";
import { Kernel } from "../../src/kernel/kernel.ts";

const { memory, ctrl } = workerData as { memory: WebAssembly.Memory; ctrl: SharedArrayBuffer };
/** [0]: the round released; [1]: adopters ready (both wait on [0] before adopting). */
const go = new Int32Array(ctrl);
let k: Kernel | undefined;

parentPort!.on("message", async (m: { round?: number; close?: boolean }) => {
  if (m.close) {
    k?.close();
    k = undefined;
    parentPort!.postMessage({ closed: true });
    return;
  }
  const round = m.round!;
  Atomics.add(go, 1, 1);
  while (Atomics.load(go, 0) < round); // both spin, so they leave together (a wait's wake-up is tens of us apart)
  try {
    k = await Kernel.create({ memory, counter: "host-call", adopt: true });
    k.startTicking(1000);
    parentPort!.postMessage({ round, won: true, token: k.store.token });
  } catch (e) {
    parentPort!.postMessage({ round, error: String((e as Error).message) });
  }
});
parentPort!.postMessage({ ready: true });
