// The browser the portal's tests drive: Debian's Chromium (/usr/bin/chromium, installed by
// .ci/run) through playwright-core, headless, with a fresh profile for each launch. Also
// builds the portal's bundle when a test runs without `npm test`'s pretest having built it.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { portalDirectory } from '../../src/api/portal.js';
import { repoRoot } from '../support/kubectl.js';

export const CHROMIUM = process.env.VIRTFLOW_CHROMIUM ?? '/usr/bin/chromium';
export const screenshotDir = path.join(repoRoot, 'test-results/screenshots');

export async function ensurePortalBuilt(): Promise<void> {
  if (existsSync(path.join(portalDirectory, 'index.html'))) return;
  const { build } = await import('vite');
  await build({ configFile: path.join(repoRoot, 'ui/vite.config.ts'), logLevel: 'warn' });
}

/** Chromium without anything that talks to the outside world or needs a GPU or sandbox. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it)`);
  // launch() gives every browser a fresh temporary --user-data-dir of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page on a laptop-sized screen that trusts the server's self-signed CA. */
export async function laptopPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ignoreHTTPSErrors: true });
  return context.newPage();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Fills the portal's sign-in form with `token` and submits it (whether it is accepted is the caller's to check). */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/ui/`);
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
