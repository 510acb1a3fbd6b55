// Builds the browser benchmark's pages (examples/jsbench/www) into OUTDIR:
// main.jsx (React) and compare.jsx (Solid against React) bundled by esbuild (React ships CommonJS only, so a
// browser cannot import it unbundled; esbuild is one npm package and bundles
// in well under a second), index.html copied.  React and esbuild come from
// tests/browser/node_modules, Solid from client/node_modules (the client's
// dev dependency, its "browser" build).
//   node bench/browser_build.mjs OUTDIR [PAGE.jsx]
// (PAGE.jsx: another page, e.g. bench/browser_optimistic.jsx, built alone
// the same way with the same index.html.)
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
const common = {
  bundle: true,
  format: 'esm',
  minify: true,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  nodePaths: [path.join(root, 'client/node_modules')],
  plugins: [reactPlugin],
  logLevel: 'warning',
};
const index = fs.readFileSync(path.join(www, 'index.html'), 'utf8');
fs.writeFileSync(path.join(out, 'index.html'), index);
let built = ['main.js'];
if (process.argv[3]) {
  // Another page, alone, as main.js.
  await esbuild.build({ ...common, entryPoints: [entry], outfile: path.join(out, 'main.js') });
} else {
  await esbuild.build({ ...common, entryPoints: [entry, path.join(www, 'compare.jsx')], outdir: out });
  // compare.html is the same page loading compare.js.
  fs.writeFileSync(path.join(out, 'compare.html'), index.replace('src="main.js"', 'src="compare.js"').replace(/<title>[^<]*</, '<title>js-framework-benchmark — StateChannel, Solid against React<'));
  built = ['main.js', 'compare.js'];
}
for (const js of built) {
  console.error(`browser_build: ${path.join(out, js)} (${fs.statSync(path.join(out, js)).size} bytes, ${Date.now() - t0} ms)`);
}
