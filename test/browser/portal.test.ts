// The operator portal in a real browser against the real `virtflow up` (API server,
// controllers and simulated external controller), with changes made through the real
// kubectl: sign in, the lab's estate, a VM going from Pending to Running live, power from
// the UI, an Unschedulable VM's reasons, a rack elevation, the create form's dry run, a
// "not allowed" identity, and the language switch. Screenshots of the main pages go to
// test-results/screenshots/.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startVirtflow, yamlDocuments, type VirtflowProcess } from '../support/kubectl.js';
import { expectOk } from '../e2e/support.js';
import { ensurePortalBuilt, laptopPage, launchChromium, screenshot, signIn } from './browser.js';

let vf: VirtflowProcess;
let browser: Browser;
let page: Page;
let adminToken: string;

const vm = (name: string, spec: Record<string, unknown>, namespace = 'acme') =>
  yamlDocuments([{ apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachine', metadata: { name, namespace }, spec: { image: 'ubuntu-24.04', ...spec } }]);


/** The text of the VM detail page's phase, as it shows now. */
const shownPhase = () => page.getByTestId('phase').textContent();

beforeAll(async () => {
  await ensurePortalBuilt();
  vf = await startVirtflow();
  adminToken = (await readFile(path.join(vf.home, 'admin-token'), 'utf8')).trim();
  expectOk(await vf.kubectl(['apply', '-R', '-f', path.join(repoRoot, 'examples/lab')]));
  // The cluster the lab's tenant runs, with its node pool (built from VMs by the controllers).
  expectOk(await vf.kubectl(['apply', '-f', path.join(repoRoot, 'examples/clusters/acme-prod.yaml')]));
  // The lab's vm-service-tw expects the simulator on its default port; this one listens on a
  // free port (as in lifecycle.e2e.test.ts), so point the lab's controller at it.
  const simulator = expectOk(await vf.kubectl(['get', 'externalcontroller', 'virtflow-simulator', '-o', 'jsonpath={.spec.endpoint}'])).stdout;
  expectOk(await vf.kubectl(['patch', 'externalcontroller', 'vm-service-tw', '--type=merge', '-p', JSON.stringify({ spec: { endpoint: simulator } })]));
  browser = await launchChromium();
  page = await laptopPage(browser);
}, 180_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') process.stderr.write(`virtflow up output (last 3 KB):\n${vf?.output().slice(-3000)}\n`);
});

afterAll(async () => {
  await browser?.close();
  await vf?.stop();
});

describe('the operator portal', () => {
  it('refuses a wrong token and signs in with a VirtFlow bearer token', async () => {
    await signIn(page, vf.url, 'not-a-token');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The token was not accepted.');
    await signIn(page, vf.url, adminToken);
    await expect.poll(() => page.getByRole('navigation', { name: 'Main navigation' }).isVisible()).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('virtflow.token')")).toBe(adminToken);
  });

  it("shows the lab's estate on the overview, live", { timeout: 120_000 }, async () => {
    await page.goto(`${vf.url}/ui/#/overview`);
    await page.locator('.overview[data-ready="true"]').waitFor();
    // The lab's 3 VMs and the 5 nodes of its cluster acme-prod.
    await expect.poll(() => page.getByTestId('vm-count').textContent(), { timeout: 60_000 }).toBe('8');
    // The capacity charts carry their figures as tables: the lab's one data center and groups.
    const datacenterChart = page.locator('figure.chart', { hasText: 'Capacity by data center' });
    await expect.poll(() => datacenterChart.locator('table').textContent()).toContain('tw-hsinchu-1');
    const groupChart = page.locator('figure.chart', { hasText: 'Capacity by group' });
    const groups = await groupChart.locator('table').textContent();
    expect(groups).toContain('tw-general');
    expect(groups).toContain('tw-gpu');
    await expect.poll(() => page.locator('.phase-list').textContent(), { timeout: 60_000 }).toContain('Running: 8');
    await screenshot(page, 'overview');
  });

  it('shows a VM go from Pending to Running after a kubectl apply, each change within a second', async () => {
    // The VM names a flavor that does not exist yet, so it waits in Pending until it does.
    await page.goto(`${vf.url}/ui/#/vms/acme/portal-web-1`);
    await expect.poll(() => page.locator('.vm-detail').textContent()).toContain('not found');
    expectOk(await vf.kubectl(['apply', '-f', '-'], { input: vm('portal-web-1', { specification: 'c2m8-portal', group: 'tw-general' }) }));
    const applied = Date.now();
    await page.getByTestId('phase').waitFor({ timeout: 5_000 });
    expect(Date.now() - applied, 'the new VM showed up within a second of kubectl apply').toBeLessThan(1000);
    expect(await page.locator('[data-condition="ReferencesResolved"]').textContent({ timeout: 10_000 })).toContain('c2m8-portal');
    expect(await shownPhase()).toBe('Pending');
    expectOk(
      await vf.kubectl(['apply', '-f', '-'], {
        input: yamlDocuments([{ apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachineSpecification', metadata: { name: 'c2m8-portal' }, spec: { cpu: 2, memory: '8Gi', storage: '50Gi' } }]),
      }),
    );
    await expect.poll(shownPhase, { timeout: 30_000 }).toBe('Running');
    expect(await page.getByTestId('placement-explanation').textContent()).toMatch(/^Placed on bm-tw-00\d/);
    await screenshot(page, 'vm-detail');
  });

  it('stops and starts the VM from the UI', async () => {
    await page.getByRole('button', { name: 'Stop (graceful)' }).click();
    await expect.poll(shownPhase, { timeout: 30_000 }).toBe('Stopped');
    const stopped = expectOk(await vf.kubectl(['get', 'vm', '-n', 'acme', 'portal-web-1', '-o', 'jsonpath={.spec.runStrategy} {.status.powerState}']));
    expect(stopped.stdout).toBe('Halted Off');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(shownPhase, { timeout: 30_000 }).toBe('Running');
    const started = expectOk(await vf.kubectl(['get', 'vm', '-n', 'acme', 'portal-web-1', '-o', 'jsonpath={.spec.runStrategy} {.status.powerState}']));
    expect(started.stdout).toBe('Always On');
  });

  it("shows an Unschedulable VM with its counted reasons", async () => {
    expectOk(
      await vf.kubectl(['apply', '-f', '-'], {
        input: [
          yamlDocuments([{ apiVersion: 'virtflow.io/v1alpha1', kind: 'VirtualMachineSpecification', metadata: { name: 'c300-huge' }, spec: { cpu: 300, memory: '16Gi', storage: '100Gi' } }]),
          vm('portal-huge-1', { specification: 'c300-huge', group: 'tw-general' }),
        ].join('---\n'),
      }),
    );
    await page.goto(`${vf.url}/ui/#/overview`);
    const section = page.locator('section.unschedulable');
    await expect.poll(() => section.textContent(), { timeout: 30_000 }).toContain('acme/portal-huge-1');
    // The scheduler's reasons, summed over the Unschedulable VMs' host counts.
    const reasons = await section.locator('table.reasons tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent).join(' ')));
    // Of the lab's six hosts: the three Ready general ones would put acme over its quota, the
    // two GPU hosts are in another group, and one is in maintenance.
    expect(reasons).toContain('3 over tenant quota');
    expect(reasons).toContain('2 host(s) not in group');
    await screenshot(page, 'overview-unschedulable');
    await section.getByRole('link', { name: 'acme/portal-huge-1' }).click();
    await expect.poll(shownPhase).toBe('Unschedulable');
    expect(await page.getByTestId('placement-explanation').textContent()).toMatch(/^0\/6 hosts fit: 3 over tenant quota, 2 host\(s\) not in group/);
  });

  it('draws a rack elevation with each host in its units, with phase and load', async () => {
    await page.goto(`${vf.url}/ui/#/inventory/rack/tw-hsinchu-1-r01`);
    const elevation = page.locator('figure.elevation[data-rack="tw-hsinchu-1-r01"]');
    await elevation.waitFor();
    expect(await elevation.locator('figcaption').textContent()).toContain('8 of 42 units used');
    const host = elevation.locator('g.host[data-host="bm-tw-005"]');
    expect(await host.getAttribute('data-unit')).toBe('10');
    await expect.poll(() => host.getAttribute('aria-label')).toMatch(/^bm-tw-005: U10–U13, Ready, Load \d+%$/);
    // Rack r01 holds bm-tw-001, -002 and -005; the r02 hosts are not drawn here.
    expect(await elevation.locator('g.host').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-host')).sort())).toEqual(['bm-tw-001', 'bm-tw-002', 'bm-tw-005']);
    // Host filters: the one host in maintenance.
    await page.getByLabel('State').selectOption('Maintenance');
    await expect.poll(() => page.locator('table.hosts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-host')))).toEqual(['bm-tw-004']);
    await page.getByLabel('State').selectOption('');
    await screenshot(page, 'inventory');
  });

  it('checks a new VM with a server-side dry run, shows where it would go, then creates it', async () => {
    await page.goto(`${vf.url}/ui/#/vms/new`);
    const form = page.locator('form.form');
    await form.locator('select[name="namespace"] option[value="acme"]').waitFor({ state: 'attached' });
    await form.locator('select[name="namespace"]').selectOption('acme');
    await form.getByLabel('Name', { exact: true }).fill('portal-form-1');
    await form.locator('select[name="specification"]').selectOption('c4m16-g2');
    await form.locator('select[name="group"]').selectOption('tw-general');
    await page.getByRole('button', { name: 'Check and preview placement' }).click();
    await expect.poll(() => page.getByTestId('preview-host').textContent(), { timeout: 15_000 }).toMatch(/^Would be placed on bm-tw-00[123] \(tw \/ tw-hsinchu-1 \//);
    // The dry run stored nothing.
    expect((await vf.kubectl(['get', 'vm', '-n', 'acme', 'portal-form-1'])).code).not.toBe(0);
    await screenshot(page, 'vm-create');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect.poll(() => page.locator('.notice.ok').textContent()).toContain('Created acme/portal-form-1');
    expectOk(await vf.kubectl(['get', 'vm', '-n', 'acme', 'portal-form-1']));
  });

  it('lists VMs with filters and search, and shows the other pages', async () => {
    await page.goto(`${vf.url}/ui/#/vms`);
    await page.getByLabel('Search').fill('portal-');
    await expect.poll(() => page.locator('table.vm-list tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-vm')))).toEqual([
      'acme/portal-form-1',
      'acme/portal-huge-1',
      'acme/portal-web-1',
    ]);
    await page.getByLabel('Phase').selectOption('Unschedulable');
    await expect.poll(() => page.locator('table.vm-list tbody tr').count()).toBe(1);
    await screenshot(page, 'vms');
    for (const [route, name, texts] of [
      ['tenants/acme', 'tenants', ['acme-tw-general', 'portal-web-1']],
      ['clusters', 'clusters', ['acme/acme-prod', 'Control plane']],
      // Maintainers directly and through their group.
      ['ownership', 'ownership', ['bob (direct)', 'alice (via platform-team)']],
      ['events', 'events', ['FailedScheduling', 'Audit trail']],
    ] as const) {
      await page.goto(`${vf.url}/ui/#/${route}`);
      for (const text of texts) await expect.poll(() => page.locator('main').textContent(), { timeout: 15_000 }).toContain(text);
      await screenshot(page, name);
    }
  });

  it('deletes a VM from the UI, keeping its data disk', async () => {
    const watch = vf.kubectlBackground(['get', 'vm', '-n', 'acme', 'portal-form-1', '--watch', '-o', 'jsonpath={.spec.dataDisk}{" "}{.metadata.deletionTimestamp}{"\\n"}']);
    try {
      await watch.waitFor(/^Delete \n/m, 15_000);
      await page.goto(`${vf.url}/ui/#/vms/acme/portal-form-1`);
      await page.getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByLabel('Keep the data disk').check();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      // The data disk was set to Retain before the deletion began.
      await watch.waitFor(/^Retain \n[\s\S]*^Retain \d{4}-/m, 15_000);
      await expect.poll(() => page.locator('.vm-detail').textContent(), { timeout: 30_000 }).toContain('acme/portal-form-1 not found');
    } finally {
      await watch.kill();
    }
  });

  it('scales a K8sNodePool from the clusters page', { timeout: 180_000 }, async () => {
    await page.goto(`${vf.url}/ui/#/clusters`);
    await page.reload();
    const pool = page.locator('[data-cluster="acme/acme-prod"] tr[data-pool="acme-prod-general"]');
    await expect.poll(() => pool.textContent(), { timeout: 90_000 }).toMatch(/\/ 2 ready/);
    await pool.getByLabel('Replicas').fill('3');
    await pool.getByRole('button', { name: 'Scale' }).click();
    await expect.poll(async () => (await vf.kubectl(['get', 'k8snodepool', '-n', 'acme', 'acme-prod-general', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('3');
    await expect.poll(() => pool.textContent(), { timeout: 60_000 }).toMatch(/\/ 3 ready/);
    await screenshot(page, 'clusters');
  });

  it('filters Events by type and text', async () => {
    await page.goto(`${vf.url}/ui/#/events`);
    await page.getByLabel('Type').selectOption('Warning');
    await page.getByLabel('Search').fill('portal-huge-1');
    await expect.poll(() => page.locator('table.events tbody tr').evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute('data-reason')))])).toEqual(['FailedScheduling']);
  });

  it("suspends and resumes a tenant, with the quota's usage bars", async () => {
    await page.goto(`${vf.url}/ui/#/tenants/globex`);
    const tenant = page.locator('.tenant[data-tenant="globex"]');
    const cpu = tenant.locator('[data-quota="globex-tw-general"] [role="meter"]').first();
    await expect.poll(() => cpu.getAttribute('aria-label')).toMatch(/^CPU: 16 of 64 \(25%\)$/);
    await tenant.getByRole('button', { name: 'Suspend' }).click();
    await expect.poll(async () => (await vf.kubectl(['get', 'tenant', 'globex', '-o', 'jsonpath={.spec.suspended}'])).stdout).toBe('true');
    await tenant.getByRole('button', { name: 'Resume' }).waitFor();
    await tenant.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(async () => (await vf.kubectl(['get', 'tenant', 'globex', '-o', 'jsonpath={.spec.suspended}'])).stdout).toBe('false');
  });

  it('can be used with the keyboard: skip link, navigation, focus on the new page', async () => {
    await page.goto(`${vf.url}/ui/#/overview`);
    // A fresh load, so that focus starts at the top of the document.
    await page.reload();
    await page.locator('.overview h1').waitFor();
    const focused = () => page.evaluate('document.activeElement.tagName + " " + document.activeElement.textContent.trim()');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('A Skip to content');
    // The brand, then the navigation's links in order.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('A Inventory');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash')).toBe('#/inventory');
    await expect.poll(focused).toBe('H1 Inventory');
  });

  it('switches to Traditional Chinese and back', async () => {
    await page.goto(`${vf.url}/ui/#/inventory/rack/tw-hsinchu-1-r01`);
    await page.getByRole('button', { name: 'Language' }).click();
    const nav = page.getByRole('navigation', { name: '主選單' });
    await expect.poll(() => nav.textContent()).toContain('資產清冊');
    expect(await nav.textContent()).toContain('租戶與配額');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-TW');
    expect(await page.locator('figure.elevation figcaption').textContent()).toContain('tw-hsinchu-1-r01 的機架立面圖');
    await screenshot(page, 'inventory-zh-TW');
    await page.goto(`${vf.url}/ui/#/overview`);
    await expect.poll(() => page.locator('main h1').textContent()).toBe('總覽');
    await screenshot(page, 'overview-zh-TW');
    await page.getByRole('button', { name: '語言' }).click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Overview');
  });

  it('shows what an identity may not read as "not allowed", and what it may', async () => {
    // The status writer's token may read VirtualMachines and nothing else.
    const limited = await laptopPage(browser);
    const statusToken = (await readFile(path.join(vf.home, 'status-writer-token'), 'utf8')).trim();
    await limited.goto(`${vf.url}/ui/`);
    await limited.getByLabel('Bearer token').fill(statusToken);
    await limited.getByRole('button', { name: 'Sign in' }).click();
    await limited.locator('.overview[data-ready="true"]').waitFor();
    expect(await limited.locator('.notice.forbidden').allTextContents()).toContain('Not allowed: your identity may not read Baremetal.');
    expect(Number(await limited.getByTestId('vm-count').textContent())).toBeGreaterThanOrEqual(5);
    await limited.context().close();
  });
});
