// The "hardware timer" of clock mode SHARED_COUNTER: keeps the arch page's
// counter word at the host's nanosecond counter, and publishes its own
// measured period (its honest resolution). Plain JS so any worker can load it.
// workerData / first message: { memory, arch, offsets: { counter, period_ns, ticks, ticker_stop, writer }, periodNs, token }
// It stops when told (ticker_stop), or once the store's claim is no longer its kernel's `token` (adopted: fenced).
const isNode = typeof process !== "undefined" && !!process.versions?.node;
const data = isNode
  ? (await import("node:worker_threads")).workerData
  : await new Promise((resolve) => (self.onmessage = (e) => resolve(e.data)));

const { memory, arch, offsets, periodNs, token } = data;
const u64 = new BigUint64Array(memory.buffer);
const i32 = new Int32Array(memory.buffer);
const counterAt = (arch + offsets.counter) >> 3;
const periodAt = (arch + offsets.period_ns) >> 3;
const ticksAt = (arch + offsets.ticks) >> 3;
const stopAt = (arch + offsets.ticker_stop) >> 2;
const claimAt = (arch + offsets.writer) >> 2;
const ours = () => !token || Atomics.load(i32, claimAt) === (token | 0);

let now;
if (isNode) {
  now = () => process.hrtime.bigint();
} else {
  // Whole microseconds of the origin and the fraction apart, so no ns are lost to f64.
  const origin = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n;
  now = () => origin + BigInt(Math.round(performance.now() * 1e6));
}

// The measured mean period over a window of updates is the resolution readers get.
const WINDOW = 256n;
let ticks = 0n;
let windowStart = now();
const waitMs = periodNs > 0 ? periodNs / 1e6 : 0;
while (Atomics.load(i32, stopAt) === 0 && ours()) {
  const t = now();
  Atomics.store(u64, counterAt, t);
  ticks++;
  if (ticks === 1n) Atomics.store(u64, ticksAt, ticks); // "running": the kernel waits for this
  if (ticks % WINDOW === 0n) {
    const period = (t - windowStart + WINDOW - 1n) / WINDOW;
    Atomics.store(u64, periodAt, period > 0n ? period : 1n);
    Atomics.store(u64, ticksAt, ticks);
    windowStart = t;
  }
  if (waitMs > 0) Atomics.wait(i32, stopAt, 0, waitMs);
}
