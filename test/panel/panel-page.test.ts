import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevHost, type DevHost } from '../../src/dev-host/dev-host.js';
import { dispatchBridgeCall } from '../../src/panel/bridge-schemas.js';
import { PanelService } from '../../src/panel/panel-service.js';
import { CHROMIUM_PATH, launchChromium, type HeadlessChromium } from '../helpers/chromium.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const panelDir = path.join(root, 'dist', 'panel');
const artifacts = path.join(root, 'test-artifacts');

/** A full API key of the development host: `sk-dev-` then 36 hex digits. */
const FULL_KEY = /sk-dev-[0-9a-f]{8,}/;

let chromium: HeadlessChromium;
const hosts: DevHost[] = [];
const folders: string[] = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} missing: apt-get install -y chromium`).toBe(
    true,
  );
  expect(existsSync(path.join(panelDir, 'panel.js')), 'dist/panel missing: npm run build').toBe(
    true,
  );
  await fs.mkdir(artifacts, { recursive: true });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
});

afterEach(async () => {
  for (const host of hosts.splice(0)) {
    await host.close();
  }

  for (const folder of folders.splice(0)) {
    await fs.rm(folder, { recursive: true, force: true });
  }
});

async function openPanel(locale = 'en'): Promise<{ host: DevHost; page: Page }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'panel-page-'));
  folders.push(dataDir);
  const host = await startDevHost({
    dataDir,
    registryPath: path.join(root, 'examples', 'registry.json'),
    pagePort: 0,
    relayPort: 0,
    locale,
    panelDir,
    log: () => undefined,
  });
  hosts.push(host);
  const page = await chromium.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('close', () => expect(errors, 'errors thrown in the page').toEqual([]));
  await page.goto(host.pageUrl);
  await page.locator('h1').waitFor();
  return { host, page };
}

function row(page: Page, eventId: string) {
  return page.locator(`tr[data-event-id="${eventId}"]`);
}

async function fire(page: Page, host: DevHost, kind: 'confirmed' | 'cancelled' | 'failed') {
  const before = host.fired.length;
  await page.click(`[data-fire="${kind}"]`);
  await expect.poll(() => host.fired.length).toBe(before + 1);
  const result = host.fired.at(-1)!.result;
  expect(result.queued).toBe(true);
  return result.queued ? result.eventId : '';
}

describe('panel in the development host', () => {
  it('shows three outcomes delivered within a second', async () => {
    const { host, page } = await openPanel();
    const timings: number[] = [];

    for (const kind of ['confirmed', 'cancelled', 'failed'] as const) {
      const started = Date.now();
      const id = await fire(page, host, kind);
      await page
        .locator(`tr[data-event-id="${id}"][data-status="delivered"]`)
        .waitFor({ timeout: 1000 });
      timings.push(Date.now() - started);
    }

    expect(Math.max(...timings)).toBeLessThan(1000);
    await expect.poll(() => page.locator('tbody tr[data-status="delivered"]').count()).toBe(3);
    await expect.poll(() => page.locator('tbody').textContent()).toContain('STORE_WRITE_FAILED');
    await page.locator('tbody tr').first().locator('button.status').click();
    await page.locator('.detail pre.body').waitFor();
    await page.screenshot({
      path: path.join(artifacts, 'panel-log-delivered.png'),
      fullPage: true,
    });
    await page.click('#tab-monitoring');
    await page.locator('.chart canvas').waitFor();
    await expect.poll(() => page.locator('.figures').textContent()).toContain('33.3%');
    await page.screenshot({ path: path.join(artifacts, 'panel-monitoring.png'), fullPage: true });
    expect(await page.content()).not.toMatch(FULL_KEY);
    await page.close();
  });

  it('shows retries with their next time during an outage', async () => {
    const { host, page } = await openPanel();
    const delivered = await fire(page, host, 'cancelled');
    await page.locator(`tr[data-event-id="${delivered}"][data-status="delivered"]`).waitFor();
    await page.click('[data-mode="fail-503"]');
    await expect.poll(() => host.relay.mode).toBe('fail-503');
    const id = await fire(page, host, 'confirmed');
    const retrying = page.locator(`tr[data-event-id="${id}"][data-status="retrying"]`);
    await retrying.waitFor({ timeout: 2000 });
    await expect.poll(() => retrying.locator('.last-attempt').textContent()).toContain('HTTP 503');
    await expect.poll(() => retrying.locator('.next-retry').textContent()).toMatch(/in \d+ s/);

    await retrying.locator('button.status').click();
    const attempts = page.locator('.detail table.attempts tbody tr');
    await attempts.first().waitFor();
    await expect.poll(() => attempts.first().textContent()).toContain('HTTP 503');
    await expect.poll(() => attempts.first().locator('td').last().textContent()).not.toBe('');
    await page.screenshot({ path: path.join(artifacts, 'panel-log.png'), fullPage: true });
    await page.close();
  });

  it('retries now, replays, discards and exports', async () => {
    const { host, page } = await openPanel();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.click('[data-mode="fail-503"]');
    await expect.poll(() => host.relay.mode).toBe('fail-503');
    const id = await fire(page, host, 'confirmed');
    await row(page, id).and(page.locator('[data-status="retrying"]')).waitFor();
    await row(page, id).locator('button.status').click();

    // Retry now: the relay returns 200 again, and the retry delivers at once.
    host.relay.mode = 'ok';
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.locator(`tr[data-event-id="${id}"][data-status="delivered"]`).waitFor();
    expect(host.relay.verifiedIds.has(id)).toBe(true);

    // Replay: the same event id arrives a second time.
    await page.getByRole('button', { name: 'Replay' }).click();
    await expect
      .poll(() => host.relay.received.filter((entry) => entry.eventId === id).length)
      .toBe(3);
    expect(host.relay.received.at(-1)?.duplicate).toBe(true);

    // Export: a JSON file with every event and its attempts, without the full key.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export log as JSON' }).click(),
    ]);
    const exported = await fs.readFile(await download.path(), 'utf8');
    const log = JSON.parse(exported) as { events: Array<{ id: string; attempts: unknown[] }> };
    expect(log.events.map((event) => event.id)).toEqual([id]);
    expect(log.events[0]?.attempts).toHaveLength(3);
    expect(exported).not.toMatch(FULL_KEY);

    // Discard: the event leaves the log.
    await page.getByRole('button', { name: 'Discard' }).click();
    await row(page, id).waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('.empty').textContent()).toContain('No callbacks match');
    await page.close();
  });

  it('clears delivered events after confirmation', async () => {
    const { host, page } = await openPanel();
    const id = await fire(page, host, 'cancelled');
    await page.locator(`tr[data-event-id="${id}"][data-status="delivered"]`).waitFor();
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Clear delivered' }).click();
    await row(page, id).waitFor({ state: 'detached' });
    expect(prompts).toEqual(['Remove all 1 delivered events from the log?']);
    await page.close();
  });

  it('rejects an http:// callback URL in settings', async () => {
    const { host, page } = await openPanel();
    await page.click('#tab-settings');
    const url = page.getByLabel('Callback URL (https://)');
    await url.fill('http://relay.example/callback');
    const message = page.locator('#field-relays-local-relay-callbackUrl-message');
    await expect
      .poll(() => message.textContent())
      .toBe('relays.local-relay.callbackUrl: expected an https:// URL, received http://');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toContain('Not saved');
    expect(host.plugin.runtime?.settings.get().relays['local-relay']?.callbackUrl).toBeUndefined();
    await expect.poll(() => url.getAttribute('aria-invalid')).toBe('true');
    await page.close();
  });

  it('renders Chinese for a zh-CN host and switches to English', async () => {
    const { host, page } = await openPanel('zh-CN');
    const id = await fire(page, host, 'failed');
    await page.locator(`tr[data-event-id="${id}"][data-status="delivered"]`).waitFor();
    await expect.poll(() => row(page, id).textContent()).toContain('已送达');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Connect 回调');
    await expect.poll(() => page.locator('#tab-log').textContent()).toBe('投递日志');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.screenshot({ path: path.join(artifacts, 'panel-log-zh.png'), fullPage: true });

    await page.selectOption('#language', 'en');
    await expect.poll(() => page.locator('#tab-log').textContent()).toBe('Delivery log');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    await page.close();
  });
});

describe('panel after a relay answers 410 Gone', () => {
  it('explains the pause in Chinese', async () => {
    const { host, page } = await openPanel('zh-CN');
    await page.click('[data-mode="gone"]');
    await expect.poll(() => host.relay.mode).toBe('gone');
    const goneId = await fire(page, host, 'confirmed');
    await row(page, goneId).and(page.locator('[data-status="dead"]')).waitFor();
    host.relay.mode = 'ok';
    const heldId = await fire(page, host, 'cancelled');
    const held = row(page, heldId);
    await held.and(page.locator('[data-status="pending"]')).waitFor();

    await expect.poll(() => held.locator('.last-attempt').textContent()).toBe('中转站暂停期间保留');
    await expect.poll(() => held.locator('.next-retry').textContent()).toBe('等待中转站恢复');
    await expect.poll(() => page.locator('thead').first().textContent()).not.toContain('Ref');

    await held.locator('button.status').click();
    const summary = page.locator('.detail .summary');
    await expect.poll(() => summary.textContent()).toContain('返回了 410 Gone，插件已将其暂停');
    expect(await summary.textContent()).not.toMatch(/paused in the settings|relay_paused/);
    expect(await summary.textContent()).toContain('等待中转站恢复');
    await page.screenshot({ path: path.join(artifacts, 'panel-detail-zh.png'), fullPage: true });

    await page.locator('.detail button', { hasText: '关闭' }).click();
    await row(page, goneId).locator('button.status').click();
    await expect
      .poll(() => page.locator('.detail .reason').textContent())
      .toBe('410 Gone：中转站已暂停');

    await page.click('#tab-monitoring');
    await page.locator('.chart canvas').waitFor();
    const legend = page.locator('.u-legend .u-series').first();
    await expect.poll(() => legend.textContent()).toContain('时间');
    await expect.poll(() => page.locator('.chart figcaption').textContent()).toMatch(/分钟|小时/);
    await page.screenshot({
      path: path.join(artifacts, 'panel-monitoring-zh.png'),
      fullPage: true,
    });
    await page.close();
  });
});

describe('development host controls', () => {
  it('lists a callback the relay gave no answer to', async () => {
    const { host, page } = await openPanel();
    await page.click('[data-mode="hang"]');
    await expect.poll(() => host.relay.mode).toBe('hang');
    await fire(page, host, 'confirmed');
    await expect.poll(() => host.relay.received.length).toBe(1);
    await page.locator('details summary').click();
    const received = page.locator('ul.received li').first();
    await expect.poll(() => received.textContent()).toMatch(/signature verified, gave no answer$/);
    await page.close();
  });
});

describe('panel settings form', () => {
  it('adds and removes a CA certificate by keyboard', async () => {
    const { host, page } = await openPanel();
    const before = host.plugin.runtime!.settings.get().network.extraCaCertificates;
    await page.click('#tab-settings');
    const add = page.getByRole('button', { name: 'Add a CA certificate' });
    await add.focus();
    await page.keyboard.press('Enter');
    const added = page.getByLabel(`CA certificate ${before.length + 1} (PEM)`);
    await expect
      .poll(() => added.evaluate((element) => element === document.activeElement))
      .toBe(true);
    await page.keyboard.type('not a certificate');
    const field = `network.extraCaCertificates.${before.length}`;
    const message = page.locator(`#field-network-extraCaCertificates-${before.length}-message`);
    await expect.poll(() => message.textContent()).toBe(`${field}: expected a PEM certificate`);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect
      .poll(() => page.locator('.notice').textContent())
      .toContain('Not saved: 1 field needs attention.');

    await added.fill(before[0]!);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect
      .poll(() => host.plugin.runtime!.settings.get().network.extraCaCertificates)
      .toHaveLength(before.length + 1);

    const remove = page.getByRole('button', { name: `Remove CA certificate ${before.length + 1}` });
    await remove.focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => add.evaluate((element) => element === document.activeElement))
      .toBe(true);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect
      .poll(() => host.plugin.runtime!.settings.get().network.extraCaCertificates)
      .toEqual(before);

    // The form got the secret masked and sent the mask back, so callbacks still verify.
    expect(await page.content()).not.toContain(
      host.plugin.runtime!.settings.get().relays['local-relay']!.secret!,
    );
    const id = await fire(page, host, 'confirmed');
    await expect.poll(() => host.relay.verifiedIds.has(id)).toBe(true);
    await page.close();
  });
});

describe('panel accessibility', () => {
  it('works by keyboard alone', async () => {
    const { host, page } = await openPanel();
    const confirmed = page.locator('[data-fire="confirmed"]');

    for (let press = 0; press < 20; press += 1) {
      if (await confirmed.evaluate((element) => element === document.activeElement)) {
        break;
      }

      await page.keyboard.press('Tab');
    }

    await page.keyboard.press('Enter');
    await expect.poll(() => host.fired.length).toBe(1);
    const status = page.locator('tbody tr button.status').first();
    await status.waitFor();
    await status.focus();
    await page.keyboard.press('Enter');
    await page.locator('.detail pre.body').waitFor();
    await page.close();
  });

  it('fits a 640 px wide window, as at 200% zoom', async () => {
    const { host, page } = await openPanel();
    await page.setViewportSize({ width: 640, height: 900 });
    // Retrying rows fill every column, which is what once widened the page.
    host.relay.mode = 'fail-503';
    const retryingId = await fire(page, host, 'confirmed');
    await fire(page, host, 'failed');
    const retrying = page.locator(`tr[data-event-id="${retryingId}"][data-status="retrying"]`);
    await retrying.waitFor({ timeout: 5000 });
    await expect.poll(() => retrying.locator('.next-retry').textContent()).not.toBe('');
    const logOverflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(logOverflow).toBeLessThanOrEqual(0);
    await page.locator('tbody tr button.status').first().click();
    await page.locator('.detail pre.body').waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    await page.screenshot({ path: path.join(artifacts, 'panel-narrow.png'), fullPage: true });

    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });
});

describe('panel in a window like Lime', () => {
  it('renders from file:// over a preload bridge', async () => {
    const { host, page: served } = await openPanel();
    await served.close();
    const service = new PanelService(host.plugin.runtime!, {
      app: { version: '1.6.0', platform: 'linux', locale: 'zh-CN' },
    });
    const id = (await host.fire('cancelled')).result;
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') {
        errors.push(message.text());
      }
    });
    // Stands in for src/electron/panel-preload.ts: the same `window.limePanel` shape, with
    // calls carried to the plugin by a Playwright binding instead of IPC.
    await page.exposeFunction('limePanelCall', (method: string, args: unknown[]) =>
      dispatchBridgeCall(service, method, args),
    );
    await page.addInitScript(() => {
      const target = window as unknown as Record<string, unknown>;
      const call = target.limePanelCall as (method: string, args: unknown[]) => Promise<unknown>;
      target.limePanel = { call, onChange: () => () => undefined };
    });
    await page.goto(pathToFileURL(path.join(panelDir, 'index.html')).href);

    await expect.poll(() => page.locator('h1').textContent()).toBe('Connect 回调');
    await expect.poll(() => page.locator('.dev').count()).toBe(0);
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(id.queued).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
