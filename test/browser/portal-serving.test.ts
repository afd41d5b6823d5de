// The portal's files under /ui/ on the API server's HTTPS port: served without a token (they
// carry no data), while every API path still needs one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ensurePortalBuilt } from './browser.js';

let vf: TestServer;

beforeAll(async () => {
  await ensurePortalBuilt();
  vf = await startTestServer();
});

afterAll(async () => {
  await vf?.stop();
});

describe('the portal under /ui/', () => {
  it('serves index.html and its assets without a token', async () => {
    const index = await vf.call('GET', '/ui/', undefined, { authorization: '' });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    expect(script, index.text).toBeDefined();
    const asset = await vf.call('GET', script!, undefined, { authorization: '' });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it('redirects /ui to /ui/ and answers 404 for a file it does not have', async () => {
    const bare = await vf.call('GET', '/ui?x=1', undefined, { authorization: '' });
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/ui/');
    expect((await vf.call('GET', '/ui/assets/nothing-here.js', undefined, { authorization: '' })).status).toBe(404);
    // A path that climbs out of /ui/ reaches no file and no data.
    const climbing = await vf.call('GET', '/ui/../api/v1/namespaces', undefined, { authorization: '' });
    expect(climbing.status).toBeGreaterThanOrEqual(400);
    expect(climbing.text).not.toContain('NamespaceList');
  });

  it('still refuses the API without a token', async () => {
    const res = await vf.call('GET', '/apis/virtflow.io/v1alpha1/baremetals', undefined, { authorization: '' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ kind: 'Status', code: 401 });
  });
});
