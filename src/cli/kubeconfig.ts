// The kubeconfig standalone mode writes: the server's address, its CA, and the admin token.
import { writeFile } from 'node:fs/promises';
import { toYaml } from '../machinery/yaml.js';

export function kubeconfigYaml(opts: { server: string; caCert: string; token: string; name?: string }): string {
  const name = opts.name ?? 'virtflow';
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: opts.server,
          'certificate-authority-data': Buffer.from(opts.caCert).toString('base64'),
        },
      },
    ],
    users: [{ name: `${name}-admin`, user: { token: opts.token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

export async function writeKubeconfig(file: string, opts: Parameters<typeof kubeconfigYaml>[0]): Promise<void> {
  await writeFile(file, kubeconfigYaml(opts), { mode: 0o600 });
}
