// Until the demo exists, `npm start` replays the bundled kernel snapshots through the wasm reader.
import { readdirSync } from "node:fs";
import { main } from "../dist/src/cli.js";

const dir = "test/fixtures/vvarsnap";
const files = readdirSync(dir).filter((f) => f.endsWith(".bin")).map((f) => `${dir}/${f}`);
console.log("wasm-vdso: no demo yet; `npm start` replays the bundled Linux vDSO snapshots through the wasm reader.\n");
process.exitCode = await main(["snapshot", ...files]);
