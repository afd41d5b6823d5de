// The kubeconfigs standalone mode writes: the server's address, its CA, and a token (the
// admin's, or the status writer's for external controllers).
import { writeFile } from 'node:fs/promises';
import YAML from 'yaml';

export function kubeconfigYaml(opts: { server: string; caCert: string; token: string; name?: string; user?: string }): string {
  const name = opts.name ?? 'virtflow';
  const user = `${name}-${opts.user ?? 'admin'}`;
  return YAML.stringify({
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
    users: [{ name: user, user: { token: opts.token } }],
    contexts: [{ name, context: { cluster: name, user, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

export async function writeKubeconfig(file: string, opts: Parameters<typeof kubeconfigYaml>[0]): Promise<void> {
  await writeFile(file, kubeconfigYaml(opts), { mode: 0o600 });
}
