// Summarizes a V8 .cpuprofile (as written by node:inspector or `node --cpu-prof`): where the
// sampled time went by area (project file, package, Node internals, GC, idle), the top
// functions by self time, and the project's functions by inclusive time. Also runnable:
//   npx tsx test/bench/profile-summary.ts /tmp/virtflow-bench/server-create.cpuprofile
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  byArea: { area: string; ms: number; percentOfBusy: number }[];
  topSelf: { fn: string; ms: number; percentOfBusy: number }[];
  topInclusiveProject: { fn: string; ms: number; percentOfBusy: number }[];
  topInclusiveAll: { fn: string; ms: number; percentOfBusy: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const test = url.indexOf('/test/');
  if (test >= 0) return url.slice(test + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string, fn: string): string {
  if (fn === '(idle)') return '(idle)';
  if (fn === '(garbage collector)') return '(garbage collector)';
  if (fn === '(program)') return '(program: native, not attributed)';
  if (!url) return '(native / builtins: JSON, RegExp, …)';
  if (url.startsWith('node:')) {
    const mod = url.slice(5).split('/')[1] ?? url.slice(5);
    return `node:${mod.replace(/^_/, '')}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1).split('/').slice(0, 2).join('/');
  return shortUrl(url);
}

function fnName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name} ${shortUrl(url)}:${lineNumber + 1}` : name;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  let totalUs = 0;
  let idleUs = 0;
  const area = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    totalUs += us;
    const name = node.callFrame.functionName;
    if (name === '(idle)') idleUs += us;
    const a = areaOf(node.callFrame.url, name);
    area.set(a, (area.get(a) ?? 0) + us);
    const f = fnName(node);
    self.set(f, (self.get(f) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets this sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (n.callFrame.functionName === '(root)') continue;
      const key = fnName(n);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const ms = (us: number) => Math.round(us / 100) / 10;
  const pct = (us: number) => Math.round((us / Math.max(1, busyUs)) * 1000) / 10;
  const rank = (m: Map<string, number>, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k) && k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
  return {
    totalMs: ms(totalUs),
    busyMs: ms(busyUs),
    byArea: rank(area).map(([a, us]) => ({ area: a, ms: ms(us), percentOfBusy: pct(us) })),
    topSelf: rank(self).map(([fn, us]) => ({ fn, ms: ms(us), percentOfBusy: pct(us) })),
    topInclusiveProject: rank(inclusive, (k) => / src\//.test(k)).map(([fn, us]) => ({ fn, ms: ms(us), percentOfBusy: pct(us) })),
    topInclusiveAll: rank(inclusive, (k) => !k.startsWith('(program)') && !k.startsWith('(garbage')).map(([fn, us]) => ({
      fn,
      ms: ms(us),
      percentOfBusy: pct(us),
    })),
  };
}

export async function summarizeProfileFile(file: string, top = 25): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top);
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`sampled ${s.totalMs} ms, busy (not idle) ${s.busyMs} ms`);
  const block = (title: string, rows: { name: string; ms: number; percentOfBusy: number }[]) => {
    lines.push('', title);
    for (const r of rows) lines.push(`  ${r.percentOfBusy.toFixed(1).padStart(5)}%  ${r.ms.toFixed(1).padStart(8)} ms  ${r.name}`);
  };
  block('by area (self time):', s.byArea.map((r) => ({ name: r.area, ms: r.ms, percentOfBusy: r.percentOfBusy })));
  block('top functions, self time:', s.topSelf.map((r) => ({ name: r.fn, ms: r.ms, percentOfBusy: r.percentOfBusy })));
  block('project functions, inclusive time:', s.topInclusiveProject.map((r) => ({ name: r.fn, ms: r.ms, percentOfBusy: r.percentOfBusy })));
  block('all functions, inclusive time:', s.topInclusiveAll.map((r) => ({ name: r.fn, ms: r.ms, percentOfBusy: r.percentOfBusy })));
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx test/bench/profile-summary.ts FILE.cpuprofile [top]');
    process.exit(2);
  }
  summarizeProfileFile(file, Number(process.argv[3] ?? 25)).then(
    (s) => console.log(formatProfileSummary(s)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
