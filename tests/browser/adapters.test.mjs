// The client's adapters in Debian's chromium against the real shopping app
// behind lighttpd: the list rendered by Solid (solid.html), by
// <state-channel> (element.html) and by Vue (vue.html), all on one list;
// then lighttpd restarted on the same database (the pages resume) and on a
// new one (another epoch: the pages resync from full state frames).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { postEvent, getJSON, sleep, uniq, openList as open, shownItems as shown, converges as convergesAt, add } from './lib.mjs';
import { serverAndBrowser } from './pages.mjs';

const env = serverAndBrowser();
const openList = (list, page) => open(env.browser, env.server.url, list, page);
const converges = (page, list) => convergesAt(page, env.server.url, list);

const T = { timeout: 15000 };

/** Marks every row element of the page; marked() lists the ids of the marked ones still shown. */
const mark = (page) => page.$$eval('#items li', (lis) => lis.forEach((li) => (li.marked = true)));
const marked = (page) => page.$$eval('#items li', (lis) => lis.filter((li) => li.marked).map((li) => li.dataset.id));

test('Solid, <state-channel> and Vue pages on one list stay in sync; Solid re-renders only the changed row', async () => {
  const list = uniq('adapters');
  const s = await openList(list, 'solid.html');
  const e = await openList(list, 'element.html');
  const v = await openList(list, 'vue.html');
  try {
    await add(s, 'Milk', 2);
    await e.waitForSelector('#items li:has-text("Milk")', T);
    await add(e, 'Eggs', 12);
    await s.waitForSelector('#items li:has-text("Eggs")', T);
    await add(v, 'Tea', 1);
    await s.waitForSelector('#items li:has-text("Tea")', T);
    await e.waitForSelector('#items li:has-text("Tea")', T);
    assert.equal(await e.textContent('#count'), '3 items', 'bind() keeps the count');

    // toggle in the element page: Solid changes that row's class and box,
    // every row element stays the same DOM node
    await mark(s);
    const ids = (await shown(s)).map((i) => i.id);
    await e.click('#items li:has-text("Milk") .toggle');
    await s.waitForSelector('#items li.bought:has-text("Milk")', T);
    await v.waitForSelector('#items li.bought:has-text("Milk")', T);
    assert.deepEqual(await marked(s), ids, 'no row of the Solid page was made again');

    // rename in Solid, seen by the others
    await s.click('#items li:has-text("Eggs") .rename');
    await s.fill('#items .rename-input', 'Free-range eggs');
    await s.press('#items .rename-input', 'Enter');
    await e.waitForSelector('#items li .name:text-is("Free-range eggs")', T);
    await v.waitForSelector('#items li .name:text-is("Free-range eggs")', T);
    assert.deepEqual(await marked(s), ids, 'still the same rows');

    // the server refuses an empty name: each page shows its reason
    for (const p of [s, e, v]) {
      await add(p, '   ', 1);
      await p.waitForSelector('#error:not([hidden])', T);
      assert.equal((await p.textContent('#error')).trim(), 'the name is empty');
      assert.equal(await p.getAttribute('#error', 'data-code'), 'bad_name');
    }

    // remove in the element page, clear bought in Vue
    await e.click('#items li:has-text("Tea") .remove');
    await s.waitForSelector('#items li:has-text("Tea")', { state: 'detached', ...T });
    await v.click('#clear-bought');
    await s.waitForSelector('#items li:has-text("Milk")', { state: 'detached', ...T });
    const all = [];
    for (const p of [s, e, v]) all.push(await converges(p, list));
    assert.deepEqual(all[1], all[0]);
    assert.deepEqual(all[2], all[0]);
    assert.deepEqual(
      all[0].map((i) => [i.name, i.quantity, i.bought]),
      [['Free-range eggs', 12, false]],
    );
  } finally {
    for (const p of [s, e, v]) await p.close();
  }
});

test('lighttpd restarted: on the same database the pages resume; on a new one (another epoch) they resync', async () => {
  const list = uniq('restart');
  const topic = `list:${list}`;
  const s = await openList(list, 'solid.html');
  const e = await openList(list, 'element.html');
  const pages = [s, e];
  try {
    for (const [n, q] of [
      ['Apples', 6],
      ['Bread', 1],
    ]) {
      await add(s, n, q);
      await e.waitForSelector(`#items li:has-text("${n}")`, T);
    }
    for (const p of pages) {
      await p.evaluate(() => {
        window.statuses = [];
        window.seen = [];
        window.statechannel.subscribe(() => window.statuses.push(window.statechannel.status));
        window.statechannel.onState((c) => window.seen.push(`state ${c.version}`));
        window.statechannel.onPatch((c) => window.seen.push(`patch ${c.version}`));
      });
    }

    // 1. Down; a change from outside (the statechannel command on the same
    // database); up again: the pages resume after their cursor.
    await env.server.restart(async () => {
      const patch = JSON.stringify([{ op: 'add', path: '/items/-', value: { id: 'x1', name: 'Outside', quantity: 3, bought: false } }]);
      execFileSync(env.server.cli, ['--db', env.server.db, 'patch', topic, '-'], { input: patch, stdio: ['pipe', 'ignore', 'inherit'] });
    });
    for (const p of pages) {
      await p.waitForSelector('#items li:has-text("Outside")', { timeout: 30000 });
      await p.waitForSelector('#status[data-status="open"]', { timeout: 30000 });
      const items = await converges(p, list);
      assert.deepEqual(items.map((i) => i.name), ['Apples', 'Bread', 'Outside']);
      const { statuses, seen } = await p.evaluate(() => ({ statuses: window.statuses, seen: window.seen }));
      assert.ok(statuses.includes('reconnecting'), `the page noticed the restart: ${statuses}`);
      assert.deepEqual(seen, ['patch 3'], 'resumed: the missed change came as a patch');
    }

    // 2. Down; the database removed; up again on a new one: the pages'
    // cursors are from another epoch, the server sends the full state
    // (the list is new and empty), the stores are reconciled to it.
    await env.server.restart(async () => {
      for (const f of ['', '-wal', '-shm']) fs.rmSync(env.server.db + f, { force: true });
    });
    for (const p of pages) {
      await p.waitForFunction(() => window.seen.some((f) => f.startsWith('state')), null, { timeout: 30000 });
      await p.waitForSelector('#items li', { state: 'detached', timeout: 30000 });
      assert.deepEqual(await converges(p, list), []);
    }
    await add(e, 'After resync', 1);
    // the page's POST in first (add() returns once it is sent): the order is known
    for (let i = 0; i < 100; i++) {
      const st = await getJSON(`${env.server.url}/state/${topic}`).catch(() => null);
      if (st && st.state.items.some((x) => x.name === 'After resync')) break;
      await sleep(100);
    }
    await postEvent(env.server.url, topic, 'add', { name: 'From elsewhere', quantity: 2 });
    for (const p of pages) {
      const items = await converges(p, list);
      assert.deepEqual(items.map((i) => i.name), ['After resync', 'From elsewhere']);
    }
  } finally {
    for (const p of pages) await p.close();
  }
});
