// The hostile-input flood at a size that fits CI (the full run is `npm run bench -- hostile`):
// every kind of malformed or oversized request of test/support/hostile.ts against a real
// server over loopback HTTPS. Nothing may answer 5xx, every refusal is a Status, the canary
// stays intact, and the server answers ordinary GETs throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHostileFlood } from '../support/hostile.js';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

describe('a flood of hostile requests', () => {
  it('gets no 5xx, only Status refusals, harms nothing, and leaves the server answering', async () => {
    const requests = Number(process.env.HOSTILE_REQUESTS ?? 1500);
    const report = await runHostileFlood(vf, { requests, seed: Number(process.env.HOSTILE_SEED ?? 20261206), concurrency: 8, deadlineMs: 90_000 });
    expect(report.failures, report.failures.slice(0, 20).join('\n')).toEqual([]);
    expect(report.sent).toBe(requests);
    // Every kind of attack was sent, and refused the way it should be.
    for (const kind of ['fuzz', 'patch-bomb', 'oversized-object', 'deep', 'content-type', 'query', 'path', 'base64', 'unknown-fields', 'all-namespaces', 'long-url', 'yaml-bomb', 'bad-utf8', 'warnings', 'numbers', 'huge-header', 'malformed-http', 'partial']) {
      expect(report.byKind[kind], kind).toBeGreaterThan(0);
    }
    for (const code of ['400', '405', '413', '414', '422', '431']) expect(report.byStatus[code], code).toBeGreaterThan(0);
    expect(report.probeGets).toBeGreaterThan(0);
    process.stderr.write(`hostile flood: ${JSON.stringify(report)}\n`);
  }, 120_000);
});
