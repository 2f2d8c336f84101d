// Runs the program against kernels in this thread: `npm install && npm run asbuild && npm start`.
import { readFileSync } from "node:fs";
import { Kernel, VirtualClocksource, createReader, instantiateProgram, layout } from "wasm-vdso";

const wasm = (name) => readFileSync(new URL(`build/${name}.wasm`, import.meta.url));

// Virtual time moves only when told: the program and the JS reader agree to the nanosecond.
const cs = new VirtualClocksource();
const k = await Kernel.create({ clocksource: cs });
cs.advanceNs(1_234_567_891);
k.tick();
const { exports: p } = await instantiateProgram(wasm("loop"), k);
const reader = await createReader(k);
console.log("MONOTONIC: program", p.loop(layout.CLOCK_MONOTONIC, 1), "JS reader", reader.nowNs(layout.CLOCK_MONOTONIC));
console.log("clock_gettime into the program's data:", p.gettime(layout.CLOCK_REALTIME, p.TS.value));
console.log("clock_gettime below USER_START:", p.gettime(layout.CLOCK_REALTIME, layout.USER_START - 16), "(-EFAULT)");
reader.close();
k.close();

// A live clock: a ticker worker keeps the counter word current (shared memory where there is one).
const live = await Kernel.create({ counter: "shared" });
const shared = live.memory.buffer instanceof SharedArrayBuffer;
const { exports: t } = await instantiateProgram(wasm(shared ? "loop-shared" : "loop"), live);
const n = 10_000_000;
console.log(`${(Number(t.elapsed(n)) / n).toFixed(2)} ns per read, inlined into the loop`);
live.close();
