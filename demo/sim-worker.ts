// The kernel and the PTP simulation in a Worker, writing the shared data store.
import { Engine, type Control } from "./engine.ts";

const ctx = self as unknown as { onmessage: (e: MessageEvent) => void; postMessage(m: unknown): void };

let engine: Engine | undefined;
const STEP_MS = 16;

ctx.onmessage = async (e: MessageEvent) => {
  const m = e.data as { init?: WebAssembly.Memory; control?: Control };
  if (m.init) {
    engine = await Engine.create(m.init);
    ctx.postMessage({ ready: true, view: engine.kernel.rootView() });
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      const batch = engine!.step(Math.min(now - last, 100));
      last = now;
      ctx.postMessage({ batch });
    }, STEP_MS);
  } else if (m.control && engine) {
    engine.control(m.control);
  }
};
