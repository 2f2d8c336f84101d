// A kernel in a worker: owns the timekeeper and publishes into the shared
// memory it is given; the page's readers live in other threads. Commands
// arrive as { id, method, args } and are answered with { id, result } or
// { id, error }. Plain JS importing the built package, so any worker can load it.
import { Kernel } from "wasm-vdso";

const isNode = typeof process !== "undefined" && !!process.versions?.node;
let post;
let data;
const inbox = [];
let handle = (msg) => inbox.push(msg);
if (isNode) {
  const { parentPort, workerData } = await import("node:worker_threads");
  post = (m) => parentPort.postMessage(m);
  parentPort.on("message", (m) => handle(m));
  data = workerData;
} else {
  post = (m) => self.postMessage(m);
  data = await new Promise((resolve) => (self.onmessage = (e) => resolve(e.data)));
  self.onmessage = (e) => handle(e.data);
}

const METHODS = new Set(["tick", "adjtimex", "clockAdjtime", "clockSettime", "settimeofday", "auxClockEnable", "createTimeNamespace", "suspend", "startTicking", "stopTicking", "sysClockGettime"]);
const { memory, options } = data;
const k = await Kernel.create({ ...options, memory });
k.startTicking(options.hz ?? 250);

handle = (msg) => {
  if (msg.method === "close") {
    k.close();
    post({ id: msg.id, result: 0 });
    return;
  }
  try {
    if (!METHODS.has(msg.method)) throw new Error(`no kernel method ${msg.method}`);
    const args = msg.args ?? [];
    const result = k[msg.method](...args);
    // A timex is filled in place: send it back with the result.
    post({ id: msg.id, result, args: args.map((a) => (a && typeof a === "object" ? a : undefined)) });
  } catch (e) {
    post({ id: msg.id, error: String(e?.message ?? e) });
  }
};
for (const m of inbox.splice(0)) handle(m);
post({ ready: true, view: k.store.rootView(), mode: k.cs.name });
