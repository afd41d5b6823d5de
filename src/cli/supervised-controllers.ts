// The controllers of `virtflow up`, started again whenever they stop on their own. They stop
// when the manager fails, above all when the leader Lease is lost because the database was
// away for longer than the renew deadline. A manager that lost its Lease must not go on (its
// caches and queues belong to a term that is over), but `virtflow up` must not live on with
// no controllers either: a fresh manager campaigns again and carries on.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningControllers } from './controllers.js';

export interface SupervisionOptions {
  /** First wait before starting again; doubles while restarts keep failing. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A run that lasted this long was healthy: the next wait starts from the first again. */
  healthyAfterMs?: number;
  log?: (line: string) => void;
}

export function superviseControllers(start: () => RunningControllers, opts: SupervisionOptions = {}): RunningControllers {
  const first = opts.firstDelayMs ?? 1_000;
  const max = opts.maxDelayMs ?? 30_000;
  const healthyAfter = opts.healthyAfterMs ?? 60_000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`virtflow: ${line}\n`));
  const stopping = new AbortController();
  let current = start();
  const done = (async () => {
    let delay = first;
    for (;;) {
      const startedAt = Date.now();
      const outcome = await current.done.then(
        () => 'ended',
        (err: unknown) => (err as Error)?.message ?? String(err),
      );
      if (stopping.signal.aborted) return;
      if (Date.now() - startedAt >= healthyAfter) delay = first;
      log(`the controllers stopped (${outcome}); starting them again in ${delay} ms`);
      await sleep(delay, undefined, { signal: stopping.signal }).catch(() => {});
      if (stopping.signal.aborted) return;
      current = start();
      delay = Math.min(delay * 2, max);
    }
  })();
  return {
    done,
    metricsUrl: () => current.metricsUrl(),
    async stop() {
      stopping.abort();
      await current.stop();
      await done;
    },
  };
}
