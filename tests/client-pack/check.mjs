// Run inside a project where the statechannel-client tarball is
// installed (tests/client-pack/run.sh): node check.mjs with-peers|without-peers.
// For every subpath of the package's "exports":
//   - import it; without peers, a subpath may fail only for a missing
//     peer dependency (ERR_MODULE_NOT_FOUND naming it);
//   - the value exports its "types" file declares (TypeScript compiler
//     API) are exactly the module's run-time exports;
// then `tsc --noEmit` (strict, NodeNext) on a file importing every
// subpath that imported, using one export of each.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const kind = process.argv[2];
const cwd = process.cwd();
const require = createRequire(path.join(cwd, 'package.json'));
const ts = require('typescript');
const pkgDir = path.join(cwd, 'node_modules/statechannel-client');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const peers = Object.keys(pkg.peerDependencies || {});
const optional = pkg.peerDependenciesMeta || {};
for (const p of peers) assert.equal(optional[p]?.optional, true, `peer ${p} is optional`);

const subpaths = Object.entries(pkg.exports).filter(([k, v]) => k !== './package.json' && typeof v === 'object');
const usable = [];
for (const [sub, target] of subpaths) {
	const spec = sub === '.' ? 'statechannel-client' : `statechannel-client/${sub.slice(2)}`;
	assert.ok(target.types, `${spec}: no "types" condition`);
	assert.ok(fs.existsSync(path.join(pkgDir, target.types)), `${spec}: ${target.types} is not in the package`);
	let mod;
	try {
		mod = await import(spec);
	} catch (e) {
		const missing = peers.find((p) => e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(`'${p}'`));
		assert.ok(kind === 'without-peers' && missing, `${spec}: ${e.message}`);
		console.log(`  ${spec}: needs its peer ${missing} (not installed): ok`);
		continue;
	}
	const runtime = Object.keys(mod).sort();
	// The value exports its types declare: every export the checker
	// sees as a value, less those a program cannot use as one (re-exported
	// with `export type`): each is probed on a line of its own.
	const opts = {
		module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
		target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: [],
	};
	const file = path.join(pkgDir, target.types);
	let program = ts.createProgram([file], opts);
	const checker = program.getTypeChecker();
	const sym = checker.getSymbolAtLocation(program.getSourceFile(file));
	const values = checker.getExportsOfModule(sym).filter((s) => {
		const t = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
		return (t.flags & ts.SymbolFlags.Value) !== 0;
	}).map((s) => s.name);
	const probe = path.join(cwd, 'probe.ts');
	fs.writeFileSync(probe, `import * as m from '${spec}';\n${values.map((n) => `void m.${n};`).join('\n')}\nexport {};\n`);
	program = ts.createProgram([probe], opts);
	const refused = new Set();
	for (const d of ts.getPreEmitDiagnostics(program)) {
		if (!d.file || path.resolve(d.file.fileName) !== probe) continue;
		refused.add(d.file.getLineAndCharacterOfPosition(d.start).line - 1);
	}
	const declared = values.filter((_, i) => !refused.has(i)).sort();
	assert.deepEqual(declared, runtime, `${spec}: ${target.types} declares [${declared}] but the module exports [${runtime}]`);
	console.log(`  ${spec}: ${runtime.length} exports, as declared: ok`);
	usable.push([spec, runtime.find((n) => n !== 'default') || 'default']);
}
assert.ok(usable.some(([s]) => s === 'statechannel-client'), 'the main entry imports');
if (kind === 'with-peers') assert.equal(usable.length, subpaths.length, 'every subpath imports with the peers');

// tsc --noEmit over a file that uses every subpath that imported.
const src = usable.map(([spec, name], i) => `import { ${name} as v${i} } from '${spec}';\nconsole.log(typeof v${i});`).join('\n');
fs.writeFileSync(path.join(cwd, 'use.ts'), `${src}\nexport {};\n`);
fs.writeFileSync(path.join(cwd, 'tsconfig.json'), JSON.stringify({
	compilerOptions: {
		target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
		noEmit: true, skipLibCheck: false, lib: ['ES2022', 'DOM'], types: [],
	},
	files: ['use.ts'],
}));
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { stdio: 'inherit' });
console.log(`client-pack ${kind}: ${usable.length} subpaths imported in node and compiled by tsc --noEmit`);
