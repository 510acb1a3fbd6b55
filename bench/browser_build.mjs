// Builds the browser benchmark's pages (examples/jsbench/www) into OUTDIR:
// main.jsx (React) and compare.jsx (Solid against React) bundled by esbuild (React ships CommonJS only, so a
// browser cannot import it unbundled; esbuild is one npm package and bundles
// in well under a second), index.html copied.  React and esbuild come from
// tests/browser/node_modules, Solid from client/node_modules (the client's
// dev dependency, its "browser" build).
//   node bench/browser_build.mjs OUTDIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const req = createRequire(path.join(root, 'tests/browser/package.json'));
const esbuild = req('esbuild');
const out = path.resolve(process.argv[2] || 'jsbench-www');
const www = path.join(root, 'examples/jsbench/www');

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
  entryPoints: [path.join(www, 'main.jsx'), path.join(www, 'compare.jsx')],
  nodePaths: [path.join(root, 'client/node_modules')],
  bundle: true,
  format: 'esm',
  minify: true,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  outdir: out,
  plugins: [reactPlugin],
  logLevel: 'warning',
});
// index.html loads main.js; compare.html is the same page loading compare.js.
const index = fs.readFileSync(path.join(www, 'index.html'), 'utf8');
fs.writeFileSync(path.join(out, 'index.html'), index);
fs.writeFileSync(path.join(out, 'compare.html'), index.replace('src="main.js"', 'src="compare.js"').replace(/<title>[^<]*</, '<title>js-framework-benchmark — StateChannel, Solid against React<'));
for (const js of ['main.js', 'compare.js']) {
  console.error(`browser_build: ${path.join(out, js)} (${fs.statSync(path.join(out, js)).size} bytes, ${Date.now() - t0} ms)`);
}
