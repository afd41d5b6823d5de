// The embedded PostgreSQL of `virtflow up` and `virtflow server`, run by a helper process in
// a session of its own. Ctrl-C in a terminal signals the whole foreground process group:
// PostgreSQL as a child in that group shut down at the same moment as VirtFlow, which then
// could not finish its own shutdown (releasing its leader lease, so that the next start need
// not wait for the lease to expire). In its own session PostgreSQL stops when VirtFlow asks,
// after everything else. The helper also stops it when VirtFlow goes away without asking
// (killed, crashed): the IPC channel between them closes. And when PostgreSQL itself ends
// without being asked (killed, out of memory), the helper starts it again on the same data
// and address, so VirtFlow's connections come back without anyone stepping in.
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedDatabase, type EmbeddedPostgres, type StopOptions } from './embedded.js';

/** The hidden `virtflow` command the helper runs as. */
export const KEEPER_COMMAND = 'embedded-postgres-keeper';

const cli = fileURLToPath(new URL('../../bin/virtflow.js', import.meta.url));

type KeeperMessage = { url: string } | { error: string };
/** What VirtFlow sends the helper to have PostgreSQL stopped. */
type StopMessage = { stop: StopOptions };

export function startEmbeddedPostgresInOwnSession(dataDir: string): Promise<EmbeddedDatabase> {
  // detached: the helper (and so PostgreSQL) leads a new session, outside the terminal's
  // process group.
  const helper = fork(cli, [KEEPER_COMMAND, dataDir], { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => helper.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    helper.once('error', reject);
    helper.once('exit', (code, signal) => reject(new Error(`the embedded PostgreSQL helper ended (${signal ?? `exit code ${code}`}) before PostgreSQL was ready`)));
    helper.once('message', (message: KeeperMessage) => {
      if ('error' in message) {
        reject(new Error(message.error));
        return;
      }
      // Neither the helper nor its channel keeps this process alive on its own.
      helper.unref();
      helper.channel?.unref();
      resolve({
        url: message.url,
        async stop(opts: StopOptions = {}) {
          // Waiting for it must keep this process alive until it is done.
          helper.ref();
          helper.channel?.ref();
          if (helper.connected) helper.send({ stop: opts } satisfies StopMessage);
          await exited;
        },
      });
    });
  });
}

function stopOptionsOf(value: unknown): StopOptions {
  const graceMs = (value as StopOptions | undefined)?.graceMs;
  return typeof graceMs === 'number' && Number.isFinite(graceMs) && graceMs >= 0 ? { graceMs } : {};
}

/** First and longest wait between attempts to start PostgreSQL again after it ended. */
const RESTART_BACKOFF_MS = { first: 100, max: 5_000 };

/**
 * The helper's side: starts PostgreSQL, reports its URL, starts it again whenever it ends on
 * its own, and stops it when told or left alone.
 */
export async function keepEmbeddedPostgres(dataDir: string): Promise<void> {
  let db: EmbeddedPostgres;
  try {
    db = await startEmbeddedPostgres(dataDir, { persistent: true });
  } catch (err) {
    process.send!({ error: `embedded PostgreSQL did not start: ${(err as Error)?.message ?? String(err)}` } satisfies KeeperMessage);
    return;
  }
  const stopping = new AbortController();
  const kept = keepRunning(db, stopping.signal);
  await new Promise<void>((resolve) => {
    const stop = (opts: StopOptions = {}) => {
      if (stopping.signal.aborted) return;
      stopping.abort();
      // A start in progress finishes first, so that nothing it started is left running.
      kept.then(() => db.stop(opts)).finally(resolve);
    };
    process.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'stop' in message) stop(stopOptionsOf((message as StopMessage).stop));
    });
    process.on('disconnect', () => stop());
    // Only a direct signal reaches this session (a system shutdown, say).
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop());
    process.send!({ url: db.url } satisfies KeeperMessage);
  });
  process.disconnect?.();
}

async function keepRunning(db: EmbeddedPostgres, signal: AbortSignal): Promise<void> {
  const log = (line: string) => process.stderr.write(`virtflow: ${line}\n`);
  const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  for (;;) {
    await Promise.race([db.exited(), aborted]);
    if (signal.aborted) return;
    log('the embedded PostgreSQL ended unexpectedly; starting it again');
    // Backends of a killed server hold its shared memory for a moment: retry until they are gone.
    for (let delay = RESTART_BACKOFF_MS.first; ; delay = Math.min(delay * 2, RESTART_BACKOFF_MS.max)) {
      if (signal.aborted) return;
      try {
        await db.restart();
        log('the embedded PostgreSQL is running again');
        break;
      } catch (err) {
        log(`the embedded PostgreSQL did not start again (${(err as Error).message}); retrying in ${delay} ms`);
        await sleep(delay, undefined, { signal }).catch(() => {});
      }
    }
  }
}
