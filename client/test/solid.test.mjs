// The Solid adapter needs Solid's reactive build, which node gets only
// under the "browser" export condition (otherwise solid-js resolves to its
// server build, where nothing reacts): this runs solid.cases.mjs in a node
// with --conditions=browser and fails with its output when a case fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('the Solid adapter (solid.cases.mjs with --conditions=browser)', () => {
  const cases = fileURLToPath(new URL('./solid.cases.mjs', import.meta.url));
  // NODE_TEST_CONTEXT would make the inner runner report to this one.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--conditions=browser', '--test', '--test-reporter=spec', cases], { encoding: 'utf8', env });
  if (r.status !== 0) console.log(r.stdout, r.stderr);
  assert.equal(r.status, 0, 'a Solid case failed (its output is above)');
  assert.match(r.stdout, /effects that read that row/, 'the cases ran');
});
