// `npm run bench [-- suite...]`: runs the benchmark suites (all available ones without an
// argument, in a fixed order), then prints every figure in an aligned table with its goal
// and a pass/miss mark, and last one JSON line with all figures:
//   {"bench":{"api":{...},"placement":{...}},"misses":[...],"failed":[...]}
// A suite is a module `test/bench/<name>-suite.ts` (see suite.ts); dropping one in this
// folder makes it available. Progress goes to stderr, so stdout is only the results.
// The exit code is 1 when a suite failed to run (a missed goal is not a failure). Each suite
// runs in a process of its own.
import { fork } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchSuite, Figure, FigureInfo, Figures } from './suite.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Suites run in this order; any others found after them, alphabetically. */
const ORDER = ['placement', 'api', 'lifecycle', 'floor'];

async function availableSuites(): Promise<Map<string, string>> {
  const files = (await readdir(here)).filter((f) => /^[a-z0-9-]+-suite\.ts$/.test(f));
  const names = files.map((f) => f.slice(0, -'-suite.ts'.length));
  names.sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    if (ia !== ib) return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib);
    return a < b ? -1 : 1;
  });
  return new Map(names.map((n) => [n, path.join(here, `${n}-suite.ts`)]));
}

async function loadSuite(file: string): Promise<BenchSuite> {
  const mod = (await import(pathToFileURL(file).href)) as Partial<BenchSuite> & { default?: BenchSuite };
  const suite = mod.default && typeof mod.default.run === 'function' ? mod.default : (mod as BenchSuite);
  if (typeof suite.run !== 'function' || typeof suite.name !== 'string') {
    throw new Error(`${file} exports no {name, run()}`);
  }
  return suite;
}

function formatValue(value: Figure): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = Number.isInteger(value) ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

type Mark = 'pass' | 'MISS' | '';

function judge(value: Figure, info?: FigureInfo): Mark {
  if (!info?.goal) return '';
  if (typeof value !== 'number' || Number.isNaN(value)) return 'MISS';
  return (info.goal.op === '>=' ? value >= info.goal.value : value <= info.goal.value) ? 'pass' : 'MISS';
}

interface Row {
  suite: string;
  figure: string;
  value: string;
  unit: string;
  goal: string;
  mark: Mark;
}

function printTable(rows: Row[]): void {
  const header: Row = { suite: 'suite', figure: 'figure', value: 'value', unit: 'unit', goal: 'goal', mark: '' };
  const all = [header, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const w = { suite: width('suite'), figure: width('figure'), value: width('value'), unit: width('unit'), goal: width('goal') };
  const line = (r: Row) =>
    [r.suite.padEnd(w.suite), r.figure.padEnd(w.figure), r.value.padStart(w.value), r.unit.padEnd(w.unit), r.goal.padEnd(w.goal), r.mark]
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(line({ ...header, mark: 'pass' }).length);
  console.log(line(header));
  console.log(rule);
  let previous = '';
  for (const r of rows) {
    if (previous && r.suite !== previous) console.log(rule);
    previous = r.suite;
    console.log(line(r));
  }
}

async function main(): Promise<void> {
  const available = await availableSuites();
  const asked = process.argv.slice(2).filter((a) => a !== '--');
  const unknown = asked.filter((a) => !available.has(a));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${[...available.keys()].join(', ')}`);
    process.exit(2);
  }
  const chosen = asked.length > 0 ? [...available.keys()].filter((n) => asked.includes(n)) : [...available.keys()];

  const results: Record<string, Figures> = {};
  const rows: Row[] = [];
  const misses: string[] = [];
  const failed: string[] = [];
  for (const name of chosen) {
    const started = performance.now();
    let figures: Figures;
    let suite: BenchSuite | undefined;
    try {
      suite = await loadSuite(available.get(name)!);
      process.stderr.write(`== ${suite.name}${suite.description ? `: ${suite.description}` : ''}\n`);
      figures = await runInChild(name);
    } catch (err) {
      console.error(`suite ${name} failed: ${(err as Error)?.message ?? String(err)}`);
      failed.push(name);
      rows.push({ suite: name, figure: 'FAILED', value: String((err as Error)?.message ?? err).slice(0, 60), unit: '', goal: '', mark: '' });
      continue;
    }
    process.stderr.write(`== ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    results[name] = figures;
    for (const [key, value] of Object.entries(figures)) {
      const info = suite.figures?.[key];
      const mark = judge(value, info);
      if (mark === 'MISS') misses.push(`${name}.${key}`);
      rows.push({
        suite: name,
        figure: info?.label ?? key,
        value: formatValue(value),
        unit: info?.unit ?? '',
        goal: info?.goal ? `${info.goal.op} ${formatValue(info.goal.value)}` : '',
        mark,
      });
    }
  }
  console.log('');
  printTable(rows);
  console.log('');
  console.log(JSON.stringify({ bench: results, misses, failed }));
  // Suites clean up after themselves; anything left (a stuck socket) must not keep us here.
  process.exit(failed.length > 0 ? 1 : 0);
}

/**
 * Runs one suite in a process of its own, so that nothing an earlier suite left behind (a
 * heap of hundreds of megabytes, timers, sockets) pauses the load of a later one and shows
 * up in its latencies.
 */
function runInChild(name: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    // The child's stdout goes to our stderr: stdout is only the table and the JSON line.
    const child = fork(fileURLToPath(import.meta.url), [SUITE_CHILD, name], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 2, 'ipc'] });
    let outcome: { figures: Figures } | { error: string } | undefined;
    child.on('message', (m: { figures: Figures } | { error: string }) => (outcome = m));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (outcome && 'figures' in outcome) resolve(outcome.figures);
      else reject(new Error(outcome && 'error' in outcome ? outcome.error : `the suite's process ended (${signal ?? `exit code ${code}`}) without figures`));
    });
  });
}

const SUITE_CHILD = '--suite-child';

async function runAsChild(name: string): Promise<void> {
  const available = await availableSuites();
  let outcome: { figures: Figures } | { error: string };
  try {
    outcome = { figures: await (await loadSuite(available.get(name)!)).run() };
  } catch (err) {
    // The whole stack here; the runner reports the message with the suite's name.
    console.error((err as Error)?.stack ?? String(err));
    outcome = { error: String((err as Error)?.message ?? err) };
  }
  await new Promise<void>((resolve) => process.send!(outcome, () => resolve()));
  // As in main: suites clean up, and a stuck socket must not keep the process alive.
  process.exit(0);
}

const childSuite = process.argv[2] === SUITE_CHILD ? process.argv[3] : undefined;
(childSuite ? runAsChild(childSuite) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
