import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the adapters\' TypeScript declarations compile against a use of every export', () => {
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'test/tsconfig.adapters.json'], { cwd: root, stdio: 'inherit' });
});
