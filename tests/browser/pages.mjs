// The shopping-list pages as the browser tests see them: every renderer
// of examples/shopping/www (plain DOM, Solid, <state-channel>, Vue) has the
// same ids and classes, so one set of helpers drives them all.
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { startServer, launchBrowser, getJSON, sleep } from './lib.mjs';

export const uniq = (name) => `${name}-${process.pid}-${Date.now()}`;

/** The shopping app behind lighttpd and chromium for a test file: started
 *  before its tests, stopped after; { server, browser } once started. */
export function serverAndBrowser(options = { procs: 2 }) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer(options);
    env.browser = await launchBrowser();
  });
  after(async () => {
    if (env.browser) await env.browser.close();
    if (env.server) await env.server.stop();
  });
  return env;
}

/** Opens PAGE (e.g. "solid.html", "" for the plain page) on a list; waits until it is live. */
export async function openList(browser, server, list, page = '') {
  const p = await browser.newPage();
  p.on('pageerror', (e) => console.error('pageerror:', e.message));
  await p.goto(`${server.url}/${page}?list=${list}`);
  await p.waitForSelector('#status[data-status="open"]', { timeout: 15000 });
  return p;
}

/** What the page shows: [{id, name, quantity, bought}] in order. */
export function shown(page) {
  return page.$$eval('#items li', (lis) =>
    lis.map((li) => ({
      id: li.dataset.id,
      name: li.querySelector('.name')?.textContent,
      quantity: Number(li.querySelector('.qty').textContent.replace(/[^0-9]/g, '')),
      bought: li.querySelector('.toggle').checked,
    })),
  );
}

export async function serverItems(server, list) {
  const s = await getJSON(`${server.url}/state/list:${list}`);
  return s.state.items.map(({ id, name, quantity, bought }) => ({ id, name, quantity, bought }));
}

/** Waits until the page shows exactly the server's items. */
export async function converges(server, page, list, ms = 20000) {
  const end = Date.now() + ms;
  let a;
  let b;
  while (Date.now() < end) {
    a = await shown(page);
    b = await serverItems(server, list);
    if (JSON.stringify(a) === JSON.stringify(b)) return a;
    await sleep(100);
  }
  assert.deepEqual(a, b, 'the page does not show the server state');
  return a;
}

export async function add(page, name, quantity) {
  await page.fill('#add-name', name);
  await page.fill('#add-quantity', String(quantity));
  await page.click('#add-button');
}
