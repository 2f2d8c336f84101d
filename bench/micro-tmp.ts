import { Kernel } from "../src/kernel/kernel.ts";
for (const counter of ["virtual", "shared"] as const) {
  const k = await Kernel.create({ counter });
  const f = k.vdso.exports.clock_gettime_f64;
  const tm = (name: string, g: () => number) => {
    let acc = 0;
    for (let i = 0; i < 1e6; i++) acc += g();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1e7; i++) acc += g();
    console.log(counter, name, Number(process.hrtime.bigint() - t0) / 1e7, acc > 0);
  };
  tm("raw export f64(6)", () => f(6));
  tm("raw export f64(1)", () => f(1));
  tm("method nowF64(1)", () => k.vdso.nowF64(1));
  tm("performance.now", () => performance.now());
  k.close();
}
