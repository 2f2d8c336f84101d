// The kernel and the PTP simulation in a Worker, writing the shared data store.
// { init: memory, resume? } starts an Engine (adopting the store when resuming);
// { control } changes it; { control: { op: "close" } } closes its kernel (the
// store is marked closed) and answers { closed: true } before the page ends this worker.
import { type Control, Engine, type Resume } from "./engine.ts";

const ctx = self as unknown as { onmessage: (e: MessageEvent) => void; postMessage(m: unknown): void };

let engine: Engine | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
const STEP_MS = 16;

ctx.onmessage = async (e: MessageEvent) => {
  const m = e.data as { init?: WebAssembly.Memory; resume?: Resume; control?: Control };
  if (m.init) {
    try {
      engine = await Engine.create(m.init, m.resume);
    } catch (err) {
      ctx.postMessage({ error: String(err) });
      return;
    }
    ctx.postMessage({ ready: true, view: engine.kernel.rootView() });
    let last = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      const batch = engine!.step(Math.min(now - last, 100));
      last = now;
      ctx.postMessage({ batch });
    }, STEP_MS);
  } else if (m.control && engine) {
    if (m.control.op === "close") {
      clearInterval(timer);
      const batch = engine.step(0); // the last samples and replies
      engine.close();
      ctx.postMessage({ batch, closed: true });
      return;
    }
    engine.control(m.control);
  }
};
