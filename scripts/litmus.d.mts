// Types for scripts/litmus.mjs, which test/litmus.test.ts imports.
export type Verdict = "Never" | "Sometimes" | "Always";
export declare const dir: string;
export declare function litmusFiles(): string[];
export declare function readExpected(text?: string): Map<string, { verdict: Verdict; model: string }>;
export declare function mismatchedNames(files?: string[], expected?: Map<string, { verdict: Verdict; model: string }>): string[];
export declare function observation(name: string, stdout: string): { verdict: Verdict; positive: number; negative: number } | null;
export declare function findHerd(env?: Record<string, string | undefined>): { cmd: string; pre: string[] } | null;
