// Many tabs, one connection (the client's shared stream): ten tabs of the
// demo in one Chromium against the real app behind lighttpd over plain
// HTTP/1.1 (6 connections per host at most).  Every tab is live, a fetch
// from the tenth answers, the app holds one stream for the browser
// (counted server-side: the sockets the app processes hold), the first
// tab closing loses and doubles nothing in the others, and a late tab
// shows the current state.  Both ways of sharing: the SharedWorker, and
// the leader tab (?share=leader: Web Locks + BroadcastChannel).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, postEvent, getJSON, sleep } from './lib.mjs';

let server;
let browser;
let idle; // the app's sockets with no client at all

before(async () => {
  server = await startServer({ procs: 2 });
  browser = await launchBrowser();
  idle = await settledSockets();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function settledSockets() {
  // the same count twice in a row, 200 ms apart (short requests finish)
  let prev = -1;
  for (;;) {
    const n = server.appSockets();
    if (n === prev) return n;
    prev = n;
    await sleep(200);
  }
}

async function openTab(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
  await page.goto(url);
  await page.waitForSelector('#status[data-status="open"]', { timeout: 20000 });
  // every version this tab shows from now on
  await page.evaluate(() => {
    const ch = window.statechannel;
    window.versions = [ch.getVersion()];
    ch.subscribe(() => {
      const v = ch.getVersion();
      if (v !== window.versions.at(-1)) window.versions.push(v);
    });
  });
  return page;
}

const names = (page) => page.$$eval('#items li .name', (els) => els.map((e) => e.textContent));

for (const mode of ['worker', 'leader']) {
  test(`10 tabs share one stream (${mode === 'worker' ? 'SharedWorker' : 'leader tab'}): all live, the tenth answers, one stream on the server, the first tab closes and nothing is lost`, async () => {
    const list = `tabs-${mode}-${process.pid}-${Date.now()}`;
    const topic = `list:${list}`;
    const url = `${server.url}/?list=${list}${mode === 'leader' ? '&share=leader' : ''}`;
    await postEvent(server.url, topic, 'add', { name: 'First', quantity: 1 });
    // the streams of an earlier test are gone (the app notices a closed
    // stream at its next heartbeat)
    for (let i = 0; i < 100 && (await settledSockets()) !== idle; i++) await sleep(100);
    const base = await settledSockets();
    assert.equal(base, idle);
    const context = await browser.newContext();
    const tabs = [];
    try {
      for (let i = 0; i < 10; i++) tabs.push(await openTab(context, url));
      for (const t of tabs) assert.deepEqual(await names(t), ['First']);

      // a change from outside shows in every tab
      const t0 = Date.now();
      await postEvent(server.url, topic, 'add', { name: 'Outside', quantity: 2 });
      await Promise.all(tabs.map((t) => t.waitForSelector('#items li:has-text("Outside")', { timeout: 10000 })));
      const allLive = Date.now() - t0;
      console.log(`# ${mode}: a change from outside in all 10 tabs after ${allLive} ms`);

      // the tenth tab's own requests get through
      const answer = await tabs[9].evaluate(async (tp) => {
        const c = new AbortController();
        const timer = setTimeout(() => c.abort(), 5000);
        const r = await fetch(`/state/${tp}`, { signal: c.signal });
        clearTimeout(timer);
        return r.status;
      }, topic);
      assert.equal(answer, 200, 'a fetch from the tenth tab answers');
      await tabs[9].click('#items li:has-text("First") .toggle');
      await tabs[0].waitForSelector('#items li.bought:has-text("First")', { timeout: 10000 });

      // the server holds one stream for the browser
      const held = (await settledSockets()) - base;
      console.log(`# ${mode}: the app holds ${held} more socket(s) with 10 tabs open`);
      assert.equal(held, 1, 'one stream connection for the 10 tabs');

      // the first tab (the worker's first client, or the leader) closes
      const t1 = Date.now();
      await tabs[0].close();
      tabs.shift();
      await postEvent(server.url, topic, 'add', { name: 'After close', quantity: 3 });
      await Promise.all(tabs.map((t) => t.waitForSelector('#items li:has-text("After close")', { timeout: 10000 })));
      console.log(`# ${mode}: after the first tab closed, a change reached the 9 others in ${Date.now() - t1} ms`);
      for (let i = 0; i < 3; i++) await postEvent(server.url, topic, 'toggle', { id: 'i3' });
      const st = await getJSON(`${server.url}/state/${topic}`);
      for (const t of tabs) {
        await t.waitForFunction((v) => window.statechannel.getVersion() === v, st.version, { timeout: 10000 });
        const vs = await t.evaluate(() => window.versions);
        assert.deepEqual(
          vs,
          Array.from({ length: vs.length }, (_, i) => vs[0] + i),
          `versions contiguous in every tab: ${vs}`,
        );
      }
      assert.equal((await settledSockets()) - base, 1, 'still one stream');

      // a late tab shows the current state
      const late = await openTab(context, url);
      assert.deepEqual(await names(late), ['First', 'Outside', 'After close']);
      assert.equal(await late.evaluate(() => window.statechannel.getVersion()), st.version);
      tabs.push(late);
    } finally {
      await context.close();
    }
  });
}

// A worker that cannot be had: its script is missing (404: the error
// event), or it loads and never answers (the tab's watchdog).  Either way
// the tabs fall back to a leader tab, and still hold one stream.
for (const [why, workerUrl] of [
  ['its script is missing', '/client/src/no-such-worker.js'],
  ['it never answers', '/client/src/patch.js'],
]) {
  test(`the worker cannot be had (${why}): the tabs fall back to a leader and share one stream`, async () => {
    const list = `nowork-${workerUrl.length}-${process.pid}-${Date.now()}`;
    const topic = `list:${list}`;
    await postEvent(server.url, topic, 'add', { name: 'First', quantity: 1 });
    for (let i = 0; i < 100 && (await settledSockets()) !== idle; i++) await sleep(100);
    const base = await settledSockets();
    const context = await browser.newContext();
    try {
      const tabs = [];
      for (let i = 0; i < 3; i++) {
        const page = await context.newPage();
        page.on('pageerror', (e) => console.error('pageerror:', e.message));
        // a document of the app's origin that opens no stream of its own
        await page.goto(`${server.url}/client/src/patch.js`);
        await page.evaluate(
          async ([tp, url]) => {
            const { createStateChannel } = await import('/client/src/index.js');
            const { createSharedLink } = await import('/client/src/shared.js');
            window.link = createSharedLink('', { workerUrl: url, workerTimeout: 1000 });
            window.ch = createStateChannel({ baseUrl: '', topic: tp, share: window.link });
          },
          [topic, workerUrl],
        );
        tabs.push(page);
      }
      for (const t of tabs) {
        await t.waitForFunction(() => window.ch.status === 'open' && window.ch.getState()?.items?.length === 1, null, { timeout: 15000 });
        assert.equal(await t.evaluate(() => window.link.mode), 'leader');
      }
      await postEvent(server.url, topic, 'add', { name: 'Second', quantity: 2 });
      for (const t of tabs) await t.waitForFunction(() => window.ch.getState().items.length === 2, null, { timeout: 10000 });
      const held = (await settledSockets()) - base;
      assert.equal(held, 1, `one stream for the 3 tabs (${held})`);
    } finally {
      await context.close();
    }
  });
}
