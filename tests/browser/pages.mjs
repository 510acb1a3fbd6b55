// The lifecycle of a browser test file: the shopping app behind lighttpd
// and chromium, started before its tests and stopped after.  The page
// helpers themselves (openList, shownItems, converges, add, ...) are in
// lib.mjs.
import { before, after } from 'node:test';
import { startServer, launchBrowser } from './lib.mjs';

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
