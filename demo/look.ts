// What every plot of the demo shares: the clocks' colours, the axes' look, ns formatting.
import type uPlot from "uplot";

/** Series colours: none of them a state colour (the states are labelled badges). */
export const COLORS = ["#7aa2f7", "#ff9e64", "#bb9af7", "#2ac3de", "#f7768e", "#c0caf5", "#73daca", "#d4a373"];

/** Clock i's line: full colour when nothing or it is selected, faint otherwise. */
export const stroke = (i: number, selected: () => number | null) => () => {
  const s = selected();
  return s === null || s === i ? COLORS[i] : `${COLORS[i]}30`;
};

/** An axis in the demo's look, with its title (and unit). */
export function axis(label: string, more: uPlot.Axis = {}): uPlot.Axis {
  return { stroke: "#9aa3b5", grid: { stroke: "#222831" }, ticks: { stroke: "#333a46" }, label, labelSize: 18, labelFont: "12px system-ui", font: "11px system-ui", ...more };
}

export function fmtNs(v: number): string {
  const a = Math.abs(v);
  const s = v < 0 ? "−" : "";
  if (a >= 1e9) return `${s}${+(a / 1e9).toPrecision(3)} s`;
  if (a >= 1e6) return `${s}${+(a / 1e6).toPrecision(3)} ms`;
  if (a >= 1e3) return `${s}${+(a / 1e3).toPrecision(3)} µs`;
  return `${s}${+a.toPrecision(3)} ns`;
}
