// The embedded PostgreSQL of `virtflow up` and `virtflow server`, run by a helper process in
// a session of its own. Ctrl-C in a terminal signals the whole foreground process group:
// PostgreSQL as a child in that group shut down at the same moment as VirtFlow, which then
// could not finish its own shutdown (releasing its leader lease, so that the next start need
// not wait for the lease to expire). In its own session PostgreSQL stops when VirtFlow asks,
// after everything else. The helper also stops it when VirtFlow goes away without asking
// (killed, crashed): the IPC channel between them closes.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded.js';

/** The hidden `virtflow` command the helper runs as. */
export const KEEPER_COMMAND = 'embedded-postgres-keeper';

const cli = fileURLToPath(new URL('../../bin/virtflow.js', import.meta.url));

type KeeperMessage = { url: string } | { error: string };

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
        async stop() {
          // Waiting for it must keep this process alive until it is done.
          helper.ref();
          helper.channel?.ref();
          if (helper.connected) helper.send('stop');
          await exited;
        },
      });
    });
  });
}

/** The helper's side: starts PostgreSQL, reports its URL, stops it when told or left alone. */
export async function keepEmbeddedPostgres(dataDir: string): Promise<void> {
  let db: EmbeddedDatabase;
  try {
    db = await startEmbeddedPostgres(dataDir, { persistent: true });
  } catch (err) {
    process.send!({ error: `embedded PostgreSQL did not start: ${(err as Error)?.message ?? String(err)}` } satisfies KeeperMessage);
    return;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      db.stop().finally(resolve);
    };
    process.on('message', (message) => message === 'stop' && stop());
    process.on('disconnect', stop);
    // Only a direct signal reaches this session (a system shutdown, say).
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', stop);
    process.send!({ url: db.url } satisfies KeeperMessage);
  });
  process.disconnect?.();
}
