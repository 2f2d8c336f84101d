// Torn reads under real concurrency: 4 reader workers, a writer at full speed,
// every reader path that loops on seq checked against the writer's invariant.
import { describe, expect, it } from "vitest";
import { LOOPS, PATHS, PATHS_OF_LOOP, runStress, type StressResult } from "./stress/harness.ts";

const table = (r: StressResult) =>
  Object.entries(r.paths).map(([p, x]) => `${p}: ${x.checked} checked, ${x.torn} torn, ${x.fallbacks} fallbacks`).join("; ");
/** STRESS_VERBOSE=1 prints each run's counts. */
const report = (r: StressResult) => {
  if (process.env.STRESS_VERBOSE) console.log(`${r.build}: ${(r.ms / 1000).toFixed(2)} s, ${r.updates} updates, ${r.giveUps} give-ups; ${table(r)}`);
  return r;
};

describe("seqlock under real concurrency (shared memory, worker threads)", () => {
  it("10^6 checked reads per path (every path) by 4 readers while the writer updates flat out: 0 torn", async () => {
    const r = report(await runStress({ readers: 4, readsPerPath: 1_000_000, maxMs: 30_000 }));
    expect(r.updates).toBeGreaterThan(1000);
    for (const p of PATHS) {
      const x = r.paths[p]!;
      expect(x.checked, `${p} (${table(r)})`).toBeGreaterThanOrEqual(1_000_000n);
      expect(x.torn, `${p} (${table(r)})`).toBe(0n);
    }
    // A writer preempted mid-update for over ~1 ms makes each reader give up once
    // on that seq; the reads until it moves on take the syscall at once (not torn,
    // not checked: the fallbacks in the counts). Preemption is rare even with 5
    // threads on 2 cores.
    expect(r.giveUps * 10_000n).toBeLessThanOrEqual(r.reads);
  });

  // One build per seq loop without that loop's retry check (and nothing else
  // changed): every path through that loop must see torn reads. Two readers
  // are plenty (the writer's store order makes a missing retry show within
  // milliseconds); most of each run is the workers starting.
  it.each(LOOPS)("negative control: without the retry check of %s, its paths see torn reads", async (loop) => {
    const r = report(await runStress({ build: `stress-noretry-${loop}`, paths: PATHS_OF_LOOP[loop], readers: 2, readsPerPath: 1e12, stopOnTorn: true, maxMs: 5_000 }));
    for (const p of PATHS_OF_LOOP[loop]) expect(r.paths[p]!.torn, `${p} (${table(r)})`).toBeGreaterThan(0n);
  });

  it("negative control: without the seqlock (no wait, no retry) the root paths see torn reads", async () => {
    // (On a namespace page this build does not see the TIMENS escape: those paths take the syscall.)
    const paths = PATHS.filter((p) => !p.endsWith("_timens"));
    const r = report(await runStress({ build: "stress-noseqlock", paths, readers: 2, readsPerPath: 1e12, stopOnTorn: true, maxMs: 5_000 }));
    for (const p of paths) expect(r.paths[p]!.torn, `${p} (${table(r)})`).toBeGreaterThan(0n);
  });
});
