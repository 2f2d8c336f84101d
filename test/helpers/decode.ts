/**
 * An independent BigInt decoder of a snapshot's time page, written from the
 * snapshot format's own recipe, to check the wasm reader at any counter.
 * Covers the TSC clocks the public snapshots use.
 */
import type { Snapshot } from "../../src/snapshot.ts";

const M64 = (1n << 64n) - 1n;
const S64_MAX = (1n << 63n) - 1n;

export function decodeClock(s: Snapshot, clock: number, tsc: bigint): { sec: bigint; nsec: bigint } {
  const d = new DataView(s.vvarPages.buffer, s.vvarPages.byteOffset, s.vvarPages.byteLength);
  const cs = clock === 4 ? 1 : 0;
  let vc = 232 * cs;
  let off = { sec: 0n, nsec: 0n };
  if (d.getUint32(vc, true) & 1 && d.getInt32(vc + 4, true) === 0x7fffffff) {
    off = { sec: d.getBigInt64(vc + 40 + 16 * clock, true), nsec: d.getBigUint64(vc + 48 + 16 * clock, true) };
    vc += 4096;
  }
  const sec = d.getBigUint64(vc + 40 + 16 * clock, true);
  const nsec = d.getBigUint64(vc + 48 + 16 * clock, true);
  let ns: bigint;
  if (clock === 5 || clock === 6) {
    if (off.sec === 0n && off.nsec === 0n) return { sec, nsec };
    ns = nsec;
  } else {
    const last = d.getBigUint64(vc + 8, true);
    const max = d.getBigUint64(vc + 16, true);
    const mult = BigInt(d.getUint32(vc + 32, true));
    const shift = BigInt(d.getUint32(vc + 36, true));
    const delta = ((tsc & S64_MAX) - last) & M64;
    if (delta > max) {
      ns = delta & (1n << 62n) ? nsec >> shift : (((delta & S64_MAX) * mult + nsec) >> shift) & M64;
    } else {
      ns = ((delta * mult + nsec) & M64) >> shift;
    }
  }
  ns = (ns + off.nsec) & M64;
  const q = ns / 1_000_000_000n;
  return { sec: BigInt.asIntN(64, sec + off.sec + (q & 0xffffffffn)), nsec: ns % 1_000_000_000n };
}
