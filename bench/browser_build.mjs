// Builds the browser benchmark's page (examples/jsbench/www) into OUTDIR:
// main.jsx bundled with React by esbuild (React ships CommonJS only, so a
// browser cannot import it unbundled; esbuild is one npm package and bundles
// in well under a second), index.html copied.  React and esbuild come from
// tests/browser/node_modules.
//   node bench/browser_build.mjs OUTDIR [PAGE.jsx]
// (PAGE.jsx: another page, e.g. bench/browser_optimistic.jsx, built the same
// way with the same index.html.)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const req = createRequire(path.join(root, 'tests/browser/package.json'));
const esbuild = req('esbuild');
const out = path.resolve(process.argv[2] || 'jsbench-www');
const www = path.join(root, 'examples/jsbench/www');
const entry = path.resolve(process.argv[3] || path.join(www, 'main.jsx'));

// One React for the page and for client/src/react.js.
const reactPlugin = {
  name: 'one-react',
  setup(b) {
    b.onResolve({ filter: /^(react|react-dom|scheduler)(\/.*)?$/ }, (a) => ({ path: req.resolve(a.path) }));
  },
};

fs.mkdirSync(out, { recursive: true });
const t0 = Date.now();
await esbuild.build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  minify: true,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  outfile: path.join(out, 'main.js'),
  plugins: [reactPlugin],
  logLevel: 'warning',
});
fs.copyFileSync(path.join(www, 'index.html'), path.join(out, 'index.html'));
console.error(`browser_build: ${path.join(out, 'main.js')} (${fs.statSync(path.join(out, 'main.js')).size} bytes, ${Date.now() - t0} ms)`);
