// The watchers of the api suite's watch phase, in their own process (as real watchers are),
// so receiving and parsing 100 streams does not delay the process that sends the creates
// and times them. Started by api-suite.ts with fork(); argv[2] is
//   {url, caCert, token, path, watchers}
// It opens the streams, sends {open: n} once every one answered 200, and records when each
// ADDED event arrives (epoch milliseconds with sub-millisecond precision:
// performance.timeOrigin + performance.now(), comparable across processes). On
// {cmd: 'count'} it answers {count} (events so far); on
// {cmd: 'collect'} it answers {names, times} (one entry per event per watcher) and exits.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

interface Args {
  url: string;
  caCert: string;
  token: string;
  path: string;
  watchers: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const now = () => performance.timeOrigin + performance.now();

/** The object's name from one event line, without parsing all of it. */
function nameOf(line: string): string | undefined {
  if (!line.startsWith('{"type":"ADDED"')) return undefined;
  const meta = line.indexOf('"metadata":{');
  if (meta < 0) return undefined;
  const at = line.indexOf('"name":"', meta);
  if (at < 0) return undefined;
  const start = at + 8;
  return line.slice(start, line.indexOf('"', start));
}

async function main(): Promise<void> {
  const pool = new Pool(args.url, { connect: { ca: args.caCert }, connections: args.watchers, bodyTimeout: 0, headersTimeout: 30_000 });
  const names: string[] = [];
  const times: number[] = [];
  const streams = await Promise.all(
    Array.from({ length: args.watchers }, async () => {
      const res = await pool.request({ path: args.path, method: 'GET', headers: { authorization: `Bearer ${args.token}` } });
      if (res.statusCode !== 200) throw new Error(`watch answered ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
      let buffered = '';
      res.body.setEncoding('utf8');
      res.body.on('data', (chunk: string) => {
        const t = now();
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const name = nameOf(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          if (name === undefined) continue;
          names.push(name);
          times.push(t);
        }
      });
      res.body.on('error', () => {});
      return res;
    }),
  );
  process.on('message', (msg: { cmd?: string }) => {
    if (msg.cmd === 'count') {
      process.send!({ count: names.length });
      return;
    }
    if (msg.cmd !== 'collect') return;
    for (const s of streams) s.body.destroy();
    process.send!({ names, times }, () => {
      void pool.destroy().finally(() => process.exit(0));
    });
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ open: streams.length });
}

main().catch((err) => {
  process.send?.({ error: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
