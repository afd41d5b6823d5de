// Test support: a throwaway HTTP server that kubectl talks to, and a way to run the real
// kubectl against it with its own kubeconfig and cache (so nothing leaks into ~/.kube).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface StubReply {
  status: number;
  contentType?: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface StubServer {
  requests: RecordedRequest[];
  kubectl(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export const json = (status: number, body: unknown): StubReply => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** Starts a server on a free port answering with `handle`, and a kubeconfig pointing at it. */
export async function startStubServer(handle: (req: RecordedRequest) => StubReply): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      let reply: StubReply;
      try {
        reply = handle(recorded);
      } catch (err) {
        reply = json(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(err), code: 500 });
      }
      res.writeHead(reply.status, { ...(reply.contentType ? { 'Content-Type': reply.contentType } : {}), ...reply.headers });
      res.end(typeof reply.body === 'string' ? reply.body : Buffer.from(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'virtflow-protobuf-kubectl-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stub', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'stub', user: { token: 'stub-token' } }],
      contexts: [{ name: 'stub', context: { cluster: 'stub', user: 'stub', namespace: 'default' } }],
      'current-context': 'stub',
    }),
  );
  const kubectl = (args: string[], input?: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('kubectl', [...args, `--cache-dir=${path.join(dir, 'cache')}`], {
        env: { ...process.env, KUBECONFIG: kubeconfig },
        cwd: dir,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(input ?? '');
    });
  return {
    requests,
    kubectl,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
