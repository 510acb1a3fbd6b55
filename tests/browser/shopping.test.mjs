// The demo page (examples/shopping/www) in Debian's chromium against the
// real FastCGI app behind lighttpd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { startServer, launchBrowser, getJSON, postEvent, sleep } from './lib.mjs';
import { uniq, openList as openPageOn, shown, converges as convergesOn, add } from './pages.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ procs: 2 });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const openList = (list) => openPageOn(browser, server, list);
const converges = (page, list, ms) => convergesOn(server, page, list, ms);

test('two pages on the demo stay in sync: add, rename, toggle, remove, clear bought; a 422 reason is shown', async () => {
  const list = uniq('sync');
  const a = await openList(list);
  const b = await openList(list);
  try {
    await add(a, 'Milk', 2);
    await b.waitForSelector('#items li:has-text("Milk")', { timeout: 10000 });
    assert.match(await b.textContent('#items li:has-text("Milk") .qty'), /2/);
    await add(b, 'Eggs', 12);
    await a.waitForSelector('#items li:has-text("Eggs")', { timeout: 10000 });

    // toggle bought in B → A shows it bought
    await b.click('#items li:has-text("Milk") .toggle');
    await a.waitForSelector('#items li.bought:has-text("Milk")', { timeout: 10000 });

    // rename in A → B shows the new name
    await a.click('#items li:has-text("Eggs") .rename');
    await a.fill('#items .rename-input', 'Free-range eggs');
    await a.press('#items .rename-input', 'Enter');
    await b.waitForSelector('#items li .name:text-is("Free-range eggs")', { timeout: 10000 });

    // the server refuses an empty name: the page shows its reason
    await add(a, '   ', 1);
    await a.waitForSelector('#error:not([hidden])', { timeout: 10000 });
    assert.equal(await a.textContent('#error'), 'the name is empty');
    assert.equal(await a.getAttribute('#error', 'data-code'), 'bad_name');

    await add(a, 'Tea', 1);
    await b.waitForSelector('#items li:has-text("Tea")', { timeout: 10000 });
    // remove in B
    await b.click('#items li:has-text("Tea") .remove');
    await a.waitForSelector('#items li:has-text("Tea")', { state: 'detached', timeout: 10000 });
    // clear bought in A → Milk is gone from B
    await a.click('#clear-bought');
    await b.waitForSelector('#items li:has-text("Milk")', { state: 'detached', timeout: 10000 });

    const sa = await converges(a, list);
    const sb = await converges(b, list);
    assert.deepEqual(sa, sb);
    assert.deepEqual(
      sa.map((i) => [i.name, i.quantity, i.bought]),
      [['Free-range eggs', 12, false]],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('FastCGI processes killed and restarted mid-session: the page shows exactly the server state', async () => {
  const list = uniq('restart');
  const topic = `list:${list}`;
  const a = await openList(list);
  const frames = [];
  a.on('console', (m) => frames.push(m.text()));
  try {
    await a.evaluate(() => {
      const ch = window.statechannel;
      ch.subscribe(() => console.log(`status=${ch.status} version=${ch.getVersion()} cursor=${ch.getCursor()} items=${(ch.getState()?.items || []).map((i) => i.name)}`));
    });
    for (const [n, q] of [
      ['Apples', 6],
      ['Bread', 1],
      ['Cheese', 2],
    ]) {
      await add(a, n, q);
      await a.waitForSelector(`#items li:has-text("${n}")`, { timeout: 10000 });
    }
    await converges(a, list);

    await a.evaluate(() => {
      window.statuses = [];
      window.statechannel.subscribe(() => window.statuses.push(window.statechannel.status));
    });
    const pids = server.appPids();
    assert.ok(pids.length > 0, 'no app process found under lighttpd');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    // While they are down: a change from outside (the statechannel command
    // on the same database, when it can), and an event from the page (its
    // push retries with the same idempotency id until the app is back).
    let outside = false;
    if (fs.existsSync(server.cli)) {
      const patch = JSON.stringify([{ op: 'add', path: '/items/-', value: { id: 'x1', name: 'Outside', quantity: 3, bought: false } }]);
      try {
        execFileSync(server.cli, ['--db', server.db, 'patch', topic, '-'], { input: patch, stdio: ['pipe', 'ignore', 'pipe'] });
        outside = true;
      } catch (e) {
        console.error(`# statechannel patch: not available, skipped (${String(e.stderr).split('\n')[0]})`);
      }
    }
    await add(a, 'During outage', 4);

    // lighttpd spawns the app again; the page reconnects with its cursor.
    const end = Date.now() + 30000;
    while (server.appPids().filter((p) => !pids.includes(p)).length === 0 && Date.now() < end) await sleep(100);
    const fresh = server.appPids().filter((p) => !pids.includes(p));
    assert.ok(fresh.length > 0, 'lighttpd started new app processes');
    for (const p of pids) assert.ok(!server.appPids().includes(p), `app process ${p} is gone`);
    // More changes after the restart, one from elsewhere.
    await postEvent(server.url, topic, 'add', { name: 'After restart', quantity: 5 });
    await a.click('#items li:has-text("Bread") .toggle');

    await a.waitForSelector('#items li:has-text("During outage")', { timeout: 30000 });
    await a.waitForSelector('#items li:has-text("After restart")', { timeout: 30000 });
    await a.waitForSelector('#items li.bought:has-text("Bread")', { timeout: 30000 });
    const items = await converges(a, list);
    const names = items.map((i) => i.name);
    const expected = ['Apples', 'Bread', 'Cheese', ...(outside ? ['Outside'] : []), 'During outage', 'After restart'];
    assert.deepEqual([...names].sort(), [...expected].sort(), 'nothing lost, nothing doubled');
    assert.equal(new Set(items.map((i) => i.id)).size, items.length);
    await a.waitForSelector('#status[data-status="open"]', { timeout: 30000 });
    const statuses = await a.evaluate(() => window.statuses);
    assert.ok(statuses.includes('reconnecting'), `the page noticed the outage: ${statuses}`);
    // the page's version is the server's
    const st = await getJSON(`${server.url}/state/${topic}`);
    assert.equal(await a.evaluate(() => window.statechannel.getVersion()), st.version);
  } catch (e) {
    console.error(`# the page's history:\n${frames.map((f) => `#   ${f}`).join('\n')}`);
    console.error(`# the page shows: ${JSON.stringify(await shown(a))}`);
    console.error(`# the server has: ${JSON.stringify(await getJSON(`${server.url}/state/${topic}`))}`);
    throw e;
  } finally {
    await a.close();
  }
});

test('the client module in the page: several topics on one stream, resumed after a snapshot cursor', async () => {
  const l1 = uniq('multi-a');
  const l2 = uniq('multi-b');
  await postEvent(server.url, `list:${l1}`, 'add', { name: 'Before snapshot', quantity: 1 });
  const snap = await getJSON(`${server.url}/state/list:${l1}`);
  // a change after the snapshot: the stream (after=its cursor) must bring it, once
  await postEvent(server.url, `list:${l1}`, 'add', { name: 'After snapshot', quantity: 2 });
  const page = await browser.newPage();
  const streams = [];
  page.on('request', (r) => r.url().includes('/stream') && streams.push(r.url()));
  await page.goto(`${server.url}/?list=${uniq('unused')}`);
  const result = await page.evaluate(
    async ([l1, l2, snap]) => {
      const { createStateChannel } = await import('/client/src/index.js');
      const ch = createStateChannel({ baseUrl: '', topics: [`list:${l1}`, `list:${l2}`], initial: [snap] });
      const wait = async (f) => {
        for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 50));
      };
      await wait(() => ch.status === 'open' && ch.getState()[`list:${l1}`].items.length === 2);
      await ch.push('add', { name: 'Second list item', quantity: 3 }, { topic: `list:${l2}` });
      await wait(() => ch.getState()[`list:${l2}`]?.items.length === 1);
      const s = ch.getState();
      ch.close();
      return { a: s[`list:${l1}`].items.map((i) => i.name), b: s[`list:${l2}`].items.map((i) => i.name) };
    },
    [l1, l2, snap],
  );
  assert.deepEqual(result.a, ['Before snapshot', 'After snapshot']);
  assert.deepEqual(result.b, ['Second list item']);
  const multi = streams.filter((u) => u.includes(`topic=list:${l1}`));
  assert.equal(multi.length, 1, `one stream for both topics: ${multi}`);
  assert.match(multi[0], new RegExp(`/stream\\?topic=list:${l1}&topic=list:${l2}&after=${snap.cursor}`));
  await page.close();
});
