// The portal's audit trail in real Chromium against a real API server: the trail's newest
// events, filters by user, verb, resource, namespace and time applied on the server, pages
// with the server's continue tokens, a tenant admin who may read only their namespace, and the
// language switch. Screenshots go to test-results/screenshots/audit-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerToken } from '../../src/api/auth.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitUntil } from '../support/wait.js';
import { ensurePortalBuilt, laptopPage, launchChromium, screenshot, signIn } from './browser.js';

let vf: TestServer;
let browser: Browser;
let page: Page;
const ALICE = 'alice-portal-token-0123456789';

/** Signs in and waits for the signed-in portal. */
async function signInAs(p: Page, token: string): Promise<void> {
  await signIn(p, vf.url, token);
  await p.getByRole('navigation', { name: 'Main navigation' }).waitFor();
}

async function openAuditTrail(p: Page): Promise<void> {
  await p.goto(`${vf.url}/ui/#/events`);
  await p.getByRole('tab', { name: 'Audit trail' }).click();
  await settled(p);
}

/** The trail has its answer for the last request. */
const settled = (p: Page) => p.locator('.audit-trail[data-loading="false"]').waitFor();
const rows = (p: Page) => p.locator('table.audit tbody tr');
const column = async (p: Page, index: number) => (await rows(p).locator(`td:nth-child(${index})`).allTextContents()).map((s) => s.trim());
const ids = (p: Page) => rows(p).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-audit-id')));
/** The rows' times as recorded (RFC 3339 with microseconds, so they sort as text). */
const times = (p: Page) => rows(p).locator('time').evaluateAll((els) => els.map((el) => el.getAttribute('datetime') ?? ''));

async function applyFilters(p: Page, filters: Partial<Record<'User' | 'Resource' | 'Namespace' | 'From' | 'Until', string>> & { Verb?: string }): Promise<void> {
  const form = p.getByRole('search', { name: 'Audit trail filters' });
  for (const [label, value] of Object.entries(filters)) {
    if (label === 'Verb') await form.getByLabel('Verb').selectOption(value ?? '');
    else await form.getByLabel(label, { exact: true }).fill(value ?? '');
  }
  await form.getByRole('button', { name: 'Apply' }).click();
  await settled(p);
}

/** datetime-local text for a moment, in the browser's (and this process's) time zone. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

beforeAll(async () => {
  await ensurePortalBuilt();
  vf = await startTestServer();
  for (const name of ['team-a', 'team-b']) {
    expect((await vf.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
  }
  await registerToken(vf.db, ALICE, { username: 'alice', groups: ['system:authenticated'] });
  const binding = {
    metadata: { name: 'alice-admin', namespace: 'team-a' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'virtflow:tenant-admin' },
    subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
  };
  expect((await vf.call('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', binding)).status).toBe(201);
  const alice = { authorization: `Bearer ${ALICE}` };
  await waitUntil(async () => (await vf.call('GET', '/apis/virtflow.io/v1alpha1/namespaces/team-a/virtualmachines', undefined, alice)).status === 200, 'alice may read team-a');
  expect((await vf.call('GET', '/apis/virtflow.io/v1alpha1/namespaces/team-a/virtualmachines/web-1', undefined, alice)).status).toBe(404);
  expect((await vf.call('DELETE', '/apis/virtflow.io/v1alpha1/namespaces/team-b/virtualmachines/db-1', undefined, alice)).status).toBe(403);
  expect((await vf.call('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'settings' }, data: { a: 'b' } })).status).toBe(201);
  // An older stretch of the trail, enough for several pages.
  await vf.db.query(
    `INSERT INTO audit_events (time, username, verb, api_group, resource, namespace, name, code)
     SELECT now() - interval '2 hours' + n * interval '1 second', 'filler', 'get', 'virtflow.io', 'virtualmachines', 'team-b', 'vm-' || n, 200
     FROM generate_series(1, 120) AS n`,
  );
  await vf.server.readAudit.flush();
  browser = await launchChromium();
  page = await laptopPage(browser);
  await signInAs(page, vf.token);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await vf?.stop();
});

describe('the portal audit trail', () => {
  it('shows the newest requests first beside the Events tab', async () => {
    await openAuditTrail(page);
    expect(await rows(page).count()).toBe(50);
    // Newest first by time: the backdated events (written last, so with the highest ids) come after this run's.
    const shown = await times(page);
    expect(shown).toEqual([...shown].sort().reverse());
    expect((await column(page, 2)).slice(0, 3)).not.toContain('filler');
    expect(await page.getByRole('tab', { name: 'Audit trail' }).getAttribute('aria-selected')).toBe('true');
    await screenshot(page, 'audit-trail');
  });

  it('filters by user, verb, resource and namespace on the server', async () => {
    await applyFilters(page, { User: 'alice' });
    const users = await column(page, 2);
    expect(users.length).toBeGreaterThanOrEqual(3);
    expect(new Set(users)).toEqual(new Set(['alice']));
    await applyFilters(page, { Namespace: 'team-b' });
    expect(await column(page, 3)).toEqual(['delete']);
    expect(await column(page, 7)).toEqual(['403']);
    await applyFilters(page, { User: '', Namespace: 'team-a', Verb: 'create', Resource: 'configmaps' });
    expect(await column(page, 6)).toEqual(['settings']);
    expect(await column(page, 4)).toEqual(['configmaps']);
    await screenshot(page, 'audit-trail-filtered');
  });

  it('pages through the trail with the continue token, older and back', async () => {
    await page.getByRole('search', { name: 'Audit trail filters' }).getByRole('button', { name: 'Clear filters' }).click();
    await settled(page);
    await applyFilters(page, { User: 'filler' });
    const first = await ids(page);
    const firstTimes = await times(page);
    expect(first).toHaveLength(50);
    const pager = page.getByRole('navigation', { name: 'Audit trail pages' });
    expect(await pager.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => page.getByTestId('audit-page').textContent()).toBe('Page 2');
    await settled(page);
    const secondTimes = await times(page);
    expect(secondTimes).toHaveLength(50);
    expect(secondTimes[0]! < firstTimes[49]!).toBe(true);
    await pager.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => page.getByTestId('audit-page').textContent()).toBe('Page 3');
    await settled(page);
    expect(await ids(page)).toHaveLength(20);
    expect(await pager.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Newer' }).click();
    await pager.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(() => page.getByTestId('audit-page').textContent()).toBe('Page 1');
    await settled(page);
    expect(await ids(page)).toEqual(first);
  });

  it('selects a time range', async () => {
    // The filler events are two hours old; the rest are from this run.
    await applyFilters(page, { User: '', From: localTime(Date.now() - 30 * 60_000) });
    const recent = await column(page, 2);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent).not.toContain('filler');
    await applyFilters(page, { From: localTime(Date.now() - 3 * 3600_000), Until: localTime(Date.now() - 3600_000) });
    expect(new Set(await column(page, 2))).toEqual(new Set(['filler']));
    await applyFilters(page, { From: localTime(Date.now() + 3600_000), Until: '' });
    await expect.poll(() => page.locator('.audit-trail').getByRole('status').textContent()).toBe('No audit events match these filters.');
  });

  it("shows a tenant admin their namespace's trail and says so when they ask for more", async () => {
    const alicePage = await laptopPage(browser);
    await signInAs(alicePage, ALICE);
    await openAuditTrail(alicePage);
    await expect.poll(() => alicePage.locator('.audit-trail').getByRole('alert').textContent()).toBe('Not allowed: your identity may not read AuditEvent.');
    await applyFilters(alicePage, { Namespace: 'team-a' });
    const namespaces = await column(alicePage, 5);
    expect(namespaces.length).toBeGreaterThan(0);
    expect(new Set(namespaces)).toEqual(new Set(['team-a']));
    await applyFilters(alicePage, { Namespace: 'team-b' });
    await expect.poll(() => alicePage.locator('.audit-trail').getByRole('alert').isVisible()).toBe(true);
    await screenshot(alicePage, 'audit-trail-tenant-admin');
    await alicePage.context().close();
  });

  it('switches language', async () => {
    await page.getByRole('button', { name: 'Language' }).click();
    await expect.poll(() => page.getByRole('tab', { name: '稽核紀錄' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.audit-trail h2').textContent()).toBe('稽核紀錄');
    await page.getByRole('button', { name: '語言' }).click();
    await expect.poll(() => page.locator('.audit-trail h2').textContent()).toBe('Audit trail');
  });
});
