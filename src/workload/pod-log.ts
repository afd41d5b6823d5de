// The pods/log subresource of a simulated workload cluster. Nothing runs in a simulated pod,
// so its log is made up, deterministically: one line every few seconds since the container
// started, the same lines on every read, so `kubectl logs --tail` and the console agree.
import type { ServerResponse } from 'node:http';
import { queryBool, queryInt } from '../api/query.js';
import { errors } from '../machinery/errors.js';
import type { KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';

export const LOG_INTERVAL_MS = 5_000;
/** How far back a simulated container remembers, as a kubelet's log rotation would bound it. */
const MAX_LINES = 2_000;

export interface PodLogOptions {
  container?: string;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps: boolean;
  limitBytes?: number;
  previous: boolean;
  follow: boolean;
}

function containerNames(pod: KubeObject): string[] {
  const containers = isPlainObject(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  return containers.filter(isPlainObject).map((c) => String(c.name ?? ''));
}

function startedAt(pod: KubeObject, container: string): number | undefined {
  const statuses = isPlainObject(pod.status) && Array.isArray(pod.status.containerStatuses) ? pod.status.containerStatuses : [];
  const status = statuses.filter(isPlainObject).find((s) => s.name === container);
  const running = isPlainObject(status?.state) && isPlainObject(status.state.running) ? status.state.running : undefined;
  const at = typeof running?.startedAt === 'string' ? Date.parse(running.startedAt) : NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** Which container a log request reads, refused as kubelet refuses it. */
export function logContainer(pod: KubeObject, requested: string | undefined): string {
  const name = pod.metadata.name ?? '';
  const names = containerNames(pod);
  if (requested) {
    if (!names.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (names.length === 1) return names[0]!;
  throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
}

function line(pod: KubeObject, container: string, index: number, at: number, timestamps: boolean): string {
  const paths = ['/', '/healthz', '/api/items', '/api/orders', '/metrics'];
  const codes = [200, 200, 200, 201, 304, 404];
  const text = `${pod.metadata.name} ${container} GET ${paths[index % paths.length]} ${codes[(index * 7) % codes.length]} request=${index + 1}`;
  return timestamps ? `${new Date(at).toISOString()} ${text}` : text;
}

/** The log lines of one container up to `now`, and the index of the line that comes next. */
export function podLogLines(pod: KubeObject, container: string, opts: PodLogOptions, now: number): { lines: string[]; next: number } {
  const start = startedAt(pod, container);
  if (start === undefined) {
    throw errors.badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
  }
  if (opts.previous) throw errors.badRequest(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
  const total = Math.max(0, Math.floor((now - start) / LOG_INTERVAL_MS) + 1);
  let first = Math.max(0, total - MAX_LINES);
  if (opts.sinceSeconds !== undefined) first = Math.max(first, Math.ceil((now - opts.sinceSeconds * 1000 - start) / LOG_INTERVAL_MS));
  if (opts.tailLines !== undefined) first = Math.max(first, total - opts.tailLines);
  const lines: string[] = [];
  for (let i = first; i < total; i += 1) lines.push(line(pod, container, i, start + i * LOG_INTERVAL_MS, opts.timestamps));
  return { lines, next: total };
}

/** Writes the log as text/plain; with `follow`, a new line every interval until the client goes. */
export function sendPodLog(res: ServerResponse, pod: KubeObject, opts: PodLogOptions, now = Date.now()): void {
  const container = logContainer(pod, opts.container);
  const { lines, next } = podLogLines(pod, container, opts, now);
  let budget = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  const write = (text: string): boolean => {
    const chunk = Buffer.from(`${text}\n`);
    if (chunk.length > budget) {
      if (budget > 0) res.write(chunk.subarray(0, budget));
      budget = 0;
      return false;
    }
    budget -= chunk.length;
    res.write(chunk);
    return true;
  };
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  for (const text of lines) if (!write(text)) return void res.end();
  if (!opts.follow) return void res.end();
  const start = startedAt(pod, container)!;
  let index = next;
  const timer = setInterval(() => {
    const due = Math.floor((Date.now() - start) / LOG_INTERVAL_MS) + 1;
    for (; index < due; index += 1) {
      if (!write(line(pod, container, index, start + index * LOG_INTERVAL_MS, opts.timestamps))) {
        clearInterval(timer);
        res.end();
        return;
      }
    }
  }, LOG_INTERVAL_MS);
  timer.unref();
  // Only a watch gets an abort signal from the server; a follow ends when its socket does.
  res.on('close', () => clearInterval(timer));
}

/** Parsed as every query parameter is (src/api/query.ts), then validated as PodLogOptions is. */
function intParam(query: URLSearchParams, name: string, min: number): number | undefined {
  const n = queryInt(query, name);
  if (n !== undefined && n < min) {
    const message = `Invalid value: ${n}: must be greater than or equal to ${min}`;
    throw errors.invalid('PodLogOptions', '', '', [{ type: 'FieldValueInvalid', field: name, message }]);
  }
  return n;
}

/** PodLogOptions from the query, as kube-apiserver reads them. */
export function podLogOptions(query: URLSearchParams): PodLogOptions {
  const tailLines = intParam(query, 'tailLines', 0);
  const sinceSeconds = intParam(query, 'sinceSeconds', 1);
  const limitBytes = intParam(query, 'limitBytes', 1);
  return {
    container: query.get('container') || undefined,
    tailLines,
    sinceSeconds,
    limitBytes,
    timestamps: queryBool(query, 'timestamps') === true,
    previous: queryBool(query, 'previous') === true,
    follow: queryBool(query, 'follow') === true,
  };
}

/** GET pods/<name>/log: the stored pod, then its made-up log. */
export async function servePodLog(
  read: (name: string) => Promise<{ object: KubeObject }>,
  res: ServerResponse,
  name: string,
  query: URLSearchParams,
): Promise<void> {
  const opts = podLogOptions(query);
  const { object } = await read(name);
  sendPodLog(res, object, opts);
}
