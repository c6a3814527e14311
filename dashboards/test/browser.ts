import { requirePart } from '@hexedge/test-kit';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** Screenshots land here (git-ignored) for a reviewer to open. */
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/dashboards');

/** Debian's Chromium: a missing one fails the test file, unless HEXEDGE_SKIP_REAL_PARTS=chromium says otherwise. */
export const chromiumPart = process.env.CHROMIUM_PATH
  ? { skip: false as const, path: process.env.CHROMIUM_PATH }
  : requirePart('chromium', import.meta.filename);

/** Debian's Chromium, headless, with everything that would phone home switched off. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPart.path!,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A fresh page (own session storage, so no key leaks between tests) that fails the test on a page error. */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => errors.push(e.message));
  return page;
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
