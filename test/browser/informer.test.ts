// The portal's informers in the browser, against the real API server: a watch that the
// server ends is resumed from the last resourceVersion (no list), and a 410 Gone in the
// stream makes a fresh list, after which changes still show up live. The two stream endings
// are staged with playwright's request routing; everything else is the real server.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ensurePortalBuilt, laptopPage, launchChromium } from './browser.js';

let vf: TestServer;
let browser: Browser;
let page: Page;
const seen: { kind: 'list' | 'watch'; resourceVersion: string | null }[] = [];
/** What the next watch requests of maintainers get instead of the server's stream. */
const staged: string[] = [];

const maintainer = (name: string) => ({ apiVersion: 'virtflow.io/v1alpha1', kind: 'Maintainer', metadata: { name }, spec: { account: name, displayName: name } });

beforeAll(async () => {
  await ensurePortalBuilt();
  vf = await startTestServer();
  expect((await vf.call('POST', '/apis/virtflow.io/v1alpha1/maintainers', maintainer('alice'))).status).toBe(201);
  browser = await launchChromium();
  page = await laptopPage(browser);
  await page.context().addInitScript(`sessionStorage.setItem('virtflow.token', ${JSON.stringify(vf.token)})`);
  page.on('request', (req: Request) => {
    const url = new URL(req.url());
    if (!url.pathname.endsWith('/virtflow.io/v1alpha1/maintainers')) return;
    seen.push({ kind: url.searchParams.get('watch') ? 'watch' : 'list', resourceVersion: url.searchParams.get('resourceVersion') });
  });
  await page.route(/\/apis\/virtflow\.io\/v1alpha1\/maintainers\?.*watch=1/, async (route) => {
    const body = staged.shift();
    if (body === undefined) await route.continue();
    else await route.fulfill({ status: 200, contentType: 'application/json', body });
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await vf?.stop();
});

const names = () => page.locator('.ownership .picker').first().textContent();

describe("the portal's informers", () => {
  it('list, then watch from the list and show changes live', async () => {
    await page.goto(`${vf.url}/ui/#/ownership`);
    await expect.poll(names).toContain('alice');
    await expect.poll(() => seen.map((s) => s.kind).join(' ')).toBe('list watch');
    expect(seen[0]!.resourceVersion).toBe('0');
    expect(Number(seen[1]!.resourceVersion)).toBeGreaterThan(0);
    expect((await vf.call('POST', '/apis/virtflow.io/v1alpha1/maintainers', maintainer('bob'))).status).toBe(201);
    await expect.poll(names).toContain('bob');
  });

  it('resume a watch the server ended from the last resourceVersion, without listing', async () => {
    const before = seen.length;
    // The next (re)connection is answered with a stream that ends at once; the one after
    // goes to the server again.
    staged.push('');
    await page.reload();
    await expect.poll(() => seen.slice(before).map((s) => s.kind).join(' '), { timeout: 10_000 }).toBe('list watch watch');
    const [, ended, resumed] = seen.slice(before);
    expect(resumed!.resourceVersion).toBe(ended!.resourceVersion);
  });

  it('list again after 410 Gone, and stay live', async () => {
    const before = seen.length;
    staged.push(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' } })}\n`);
    await page.reload();
    await expect.poll(() => seen.slice(before).map((s) => s.kind).join(' '), { timeout: 10_000 }).toBe('list watch list watch');
    // The relist asks for the latest state, not for whatever the server has (resourceVersion=0).
    expect(seen[before + 2]!.resourceVersion).toBeNull();
    expect((await vf.call('POST', '/apis/virtflow.io/v1alpha1/maintainers', maintainer('carol'))).status).toBe(201);
    await expect.poll(names).toContain('carol');
  });
});
