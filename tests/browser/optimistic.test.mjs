// Optimistic updates in the demo page (examples/shopping/www with its
// mutators) in Debian's chromium, against the real FastCGI app behind
// lighttpd, through a proxy that delays every byte 150 ms each way (300 ms
// added to every round trip, the stream included): the change is in the
// DOM before the POST has its answer, a refused event rolls back and shows
// its reason, and two pages end with the server's state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startDelayProxy, launchBrowser, openList as openListAt, shownItems, converges as convergesAt } from './lib.mjs';

const DELAY = 150; // ms each way
let server;
let proxy;
let browser;

before(async () => {
  server = await startServer({ procs: 2 });
  proxy = await startDelayProxy(server.port, DELAY);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (proxy) await proxy.close();
  if (server) await server.stop();
});

const uniq = (name) => `${name}-${process.pid}-${Date.now()}`;

const openList = (list) => openListAt(browser, proxy.url, list);

/**
 * Runs act (a function of the page, given arg) and returns, right after the
 * page's own rendering (the microtasks queued by the click), what the list
 * shows and where each of the page's events is: nothing can have come back
 * from the server in between (a round trip takes 300 ms more than that).
 */
function actAndLook(page, act, args = []) {
  return page.evaluate(
    async ([src, a]) => {
      const ch = window.statechannel;
      const before = ch.pendingEvents.length;
      // eslint-disable-next-line no-new-func
      new Function('a', src)(a);
      await Promise.resolve();
      await Promise.resolve();
      const lis = [...document.querySelectorAll('#items li')];
      return {
        names: lis.map((li) => li.querySelector('.name')?.textContent ?? li.querySelector('.rename-input')?.value),
        bought: lis.map((li) => li.querySelector('.toggle').checked),
        pendingRows: lis.filter((li) => li.classList.contains('pending')).length,
        events: ch.pendingEvents.slice(before).map((e) => ({ event: e.event, status: e.status })),
      };
    },
    [`(${act})(...a)`, args],
  );
}

function submitAdd(name, quantity) {
  document.getElementById('add-name').value = name;
  document.getElementById('add-quantity').value = String(quantity);
  document.getElementById('add-button').click();
}

test('300 ms away: the item is in the DOM before the POST answers; a 422 rolls back with its reason; two pages converge', async () => {
  const list = uniq('optimistic');
  const a = await openList(list);
  const b = await openList(list);
  try {
    // add: in the DOM at once, while its POST is still on its way
    const add = await actAndLook(a, submitAdd, ['Milk', 2]);
    assert.deepEqual(add.names, ['Milk']);
    assert.equal(add.pendingRows, 1, 'shown as pending');
    assert.deepEqual(add.events, [{ event: 'add', status: 'sending' }], 'the POST has no answer yet');
    // confirmed: the same row, no longer pending, and the other page has it
    await a.waitForSelector('#items li:not(.pending):has-text("Milk")', { timeout: 10000 });
    await b.waitForSelector('#items li:has-text("Milk")', { timeout: 10000 });
    const milk = (await shownItems(a))[0];
    assert.equal(milk.id, 'i1', 'the predicted id is the one the server gave');

    // toggle from the other page: checked at once there
    const toggle = await actAndLook(b, () => document.querySelector('#items li .toggle').click());
    assert.deepEqual(toggle.bought, [true]);
    assert.deepEqual(toggle.events, [{ event: 'toggle', status: 'sending' }]);
    await a.waitForSelector('#items li.bought:has-text("Milk")', { timeout: 10000 });

    // a refused add (the server trims the name to nothing): shown, then
    // rolled back with the server's reason
    const bad = await actAndLook(a, submitAdd, ['   ', 1]);
    assert.equal(bad.names.length, 2, 'the refused item is shown first');
    assert.deepEqual(bad.events, [{ event: 'add', status: 'sending' }]);
    await a.waitForSelector('#error:not([hidden])', { timeout: 10000 });
    assert.equal(await a.textContent('#error'), 'the name is empty');
    assert.equal(await a.getAttribute('#error', 'data-code'), 'bad_name');
    assert.equal(await a.getAttribute('#error', 'data-event'), 'add');
    assert.deepEqual(
      (await shownItems(a)).map((r) => r.name),
      ['Milk'],
      'rolled back',
    );
    assert.equal(await a.inputValue('#add-name'), '   ', 'the refused text is given back');

    // a refused rename: the old name comes back
    const rn = await actAndLook(a, () => {
      const ch = window.statechannel;
      ch.push('rename', { id: 'i1', name: 'x'.repeat(101) }).catch(() => {});
    });
    assert.deepEqual(rn.names, ['x'.repeat(101)]);
    await a.waitForFunction(() => document.querySelector('#error')?.textContent === 'the name is longer than 100 bytes', null, { timeout: 10000 });
    await a.waitForSelector('#items li .name:text-is("Milk")', { timeout: 10000 });

    // the next event that succeeds clears the error; several in a row, from both pages
    const burst = await actAndLook(a, () => {
      for (const n of ['Eggs', 'Tea', 'Rice']) {
        document.getElementById('add-name').value = n;
        document.getElementById('add-button').click();
      }
    });
    assert.deepEqual(burst.names, ['Milk', 'Eggs', 'Tea', 'Rice']);
    assert.equal(burst.events.length, 3);
    const rm = await actAndLook(b, () => document.querySelector('#items li .remove').click());
    assert.ok(!rm.names.includes('Milk'), 'removed at once');
    await a.waitForSelector('#error', { state: 'hidden', timeout: 10000 });

    const sa = await convergesAt(a, server.url, list);
    const sb = await convergesAt(b, server.url, list);
    assert.deepEqual(sa, sb);
    // (three POSTs in flight at once: the server's order wins)
    assert.deepEqual(sa.map((i) => i.name).sort(), ['Eggs', 'Rice', 'Tea']);
    assert.equal(await a.evaluate(() => window.statechannel.pendingEvents.filter((e) => e.status !== 'failed').length), 0);
  } finally {
    await a.close();
    await b.close();
  }
});
