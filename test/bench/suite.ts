// What a benchmark suite is, for test/bench/run.ts: a module named `<name>-suite.ts` in this
// folder that exports `name` and `run()` (either as named exports or as the fields of a
// default export). `run()` answers its figures; the runner prints them. Optional `figures`
// describes them: a label, a unit and a goal (printed with a pass/miss mark).
// Suites log progress to stderr only; stdout belongs to the runner's table and JSON line.
import os from 'node:os';
import path from 'node:path';

/** Where suites write their profiles, summaries and logs. */
export const BENCH_OUT = process.env.BENCH_OUT ?? path.join(os.tmpdir(), 'virtflow-bench');

export type Figure = number | string;
export type Figures = Record<string, Figure>;

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

export interface FigureInfo {
  label?: string;
  unit?: string;
  goal?: Goal;
}

export interface BenchSuite {
  name: string;
  description?: string;
  /** Keyed like the figures run() answers; figures without an entry print under their key. */
  figures?: Record<string, FigureInfo>;
  run(): Promise<Figures>;
}

/** Nearest-rank percentile of already sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function sortNumbers(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Progress lines go to stderr, with the time since the process started. */
export function progress(suite: string, message: string): void {
  process.stderr.write(`[${(performance.now() / 1000).toFixed(1).padStart(6)}s] ${suite}: ${message}\n`);
}

/** A positive number from the environment variable `key`; `fallback` when unset or not one. */
export function envNumber(key: string, fallback: number): number {
  const v = Number(process.env[key]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
