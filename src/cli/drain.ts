// `virtflow drain <host>` and `virtflow uncordon <host>`: set a Baremetal's spec.state, like
// kubectl drain / uncordon. The moving itself is the drain controller's (controllers/drain);
// this only states the intent and, with --wait, follows the host's status.drain.
import { parseArgs } from 'node:util';
import type { Baremetal } from '../kinds/baremetal.js';
import { ObjectClient } from '../runtime/client.js';
import { Kinds } from '../controllers/shared/resources-of-kinds.js';
import { loadKubeConfig } from './controllers.js';

export const drainUsage = `Usage:
  virtflow drain <host> [--kubeconfig F] [--max-unavailable N] [--wait] [--timeout SECONDS]
      Sets the Baremetal to Maintenance: its VMs are moved to other hosts, N at a time
      (spec.drain.maxUnavailable, default 1). --wait follows the progress until the host is
      Drained (exit 0) or Blocked (exit 1, leftovers printed), or the timeout (default 600 s).
  virtflow uncordon <host> [--kubeconfig F]
      Sets the Baremetal back to Available: no new moves start, and it takes new VMs again.
`;

export interface CliOut {
  write(text: string): void;
}

function hostArg(positionals: string[], command: string): string {
  const [host, ...extra] = positionals;
  if (!host || extra.length > 0) throw new Error(`${command} takes one host name\n\n${drainUsage}`);
  return host;
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got "${value}"`);
  return n;
}

/** Answers the exit code: 0 set (and Drained with --wait), 1 Blocked or timed out. */
export async function runDrain(args: string[], out: CliOut = process.stdout, opts: { pollMs?: number } = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      'max-unavailable': { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    strict: true,
  });
  const name = hostArg(positionals, 'drain');
  const maxUnavailable = positiveInt(values['max-unavailable'], 'max-unavailable');
  const timeoutS = positiveInt(values.timeout, 'timeout') ?? 600;
  const client = new ObjectClient(loadKubeConfig(values.kubeconfig), { fieldManager: 'virtflow-drain' });
  await client.patch(Kinds.Baremetal, { name }, 'merge', {
    spec: { state: 'Maintenance', ...(maxUnavailable !== undefined ? { drain: { maxUnavailable } } : {}) },
  });
  out.write(`baremetal/${name} set to Maintenance${maxUnavailable !== undefined ? ` (max ${maxUnavailable} VM(s) moving at once)` : ''}\n`);
  if (!values.wait) return 0;

  const deadline = Date.now() + timeoutS * 1000;
  let said = '';
  for (;;) {
    const host = await client.get<Baremetal>(Kinds.Baremetal, { name });
    const drain = host.status?.drain;
    if (drain?.phase) {
      const line = `${drain.phase}: ${drain.message ?? ''}`;
      if (line !== said) out.write(`${line}\n`);
      said = line;
      if (drain.phase === 'Drained') return 0;
      if (drain.phase === 'Blocked') {
        for (const l of drain.leftovers ?? []) out.write(`  ${l.namespace}/${l.name}: ${l.reason}${l.message ? ` (${l.message})` : ''}\n`);
        return 1;
      }
    }
    if (Date.now() > deadline) {
      out.write(`timed out after ${timeoutS} s; the drain goes on (kubectl get baremetal ${name} -o yaml shows status.drain)\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}

export async function runUncordon(args: string[], out: CliOut = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { kubeconfig: { type: 'string' } }, strict: true });
  const name = hostArg(positionals, 'uncordon');
  const client = new ObjectClient(loadKubeConfig(values.kubeconfig), { fieldManager: 'virtflow-drain' });
  await client.patch(Kinds.Baremetal, { name }, 'merge', { spec: { state: 'Available' } });
  out.write(`baremetal/${name} set to Available\n`);
  return 0;
}
