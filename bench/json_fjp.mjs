// bench/json_fjp.mjs — the fast-json-patch side of bench/json.sh.
//
//   node bench/json_fjp.mjs DIR measure ROUND
//   node bench/json_fjp.mjs DIR report
//
// DIR holds what BUILD/bench/json_bench wrote: each state pair as
// NAME.from.json / NAME.to.json and our figures of each round in
// ours.ROUND.tsv.  "measure" times, for each pair, fast-json-patch's
// compare (parse excluded) and applyPatch (on a deep clone each run, the
// clone excluded) as the fastest of repeated runs (as our side does) and
// writes them to fjp.ROUND.tsv.  "report" prints one table: for every
// figure the best of the rounds, which json.sh interleaves with ours, so
// that a burst of load on a shared machine spoils neither side alone.
// Prints figures; asserts nothing.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import jsonpatch from 'fast-json-patch';

const [dir, mode, round] = process.argv.slice(2);
if (!dir || !(mode === 'report' || (mode === 'measure' && round))) {
  console.error('usage: node json_fjp.mjs DIR measure ROUND | DIR report');
  process.exit(2);
}

// The fastest of as many runs as fit in ~150 ms (at least 5, at most 201),
// after a few warm-up runs so that V8 has compiled the hot paths: the
// least disturbed run on a shared machine.
function fastest(run) {
  for (let i = 0; i < 3; i++) run();
  const t = [];
  let spent = 0;
  while (t.length < 201 && (t.length < 5 || spent < 150)) {
    const d = run();
    t.push(d);
    spent += d;
  }
  return Math.min(...t) * 1000; // µs
}

// A moment on two clocks (ms): the wall clock and the process's CPU time;
// since() takes the one disturbed least, as our side does (the CPU clock
// leaves out other processes of a shared machine, the wall clock is the
// finer for runs of a microsecond).
function now() {
  return [performance.now(), process.cpuUsage()];
}

function since([wall, cpu]) {
  const w = performance.now() - wall;
  const c = process.cpuUsage(cpu);
  return Math.min(w, (c.user + c.system) / 1000);
}

function read(name, which) {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.${which}.json`), 'utf8'));
}

// The rows of every DIR/PREFIX.*.tsv, by op file name.
function rounds(prefix) {
  const byFile = new Map();
  for (const f of fs.readdirSync(dir).filter((n) => n.startsWith(prefix + '.'))) {
    for (const row of fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n')) {
      const cells = row.split('\t');
      if (!byFile.has(cells[0])) byFile.set(cells[0], []);
      byFile.get(cells[0]).push(cells);
    }
  }
  return byFile;
}

// The least of column i over the rounds of one op.
const best = (rows, i) => Math.min(...rows.map((r) => Number(r[i])));

function measure() {
  const out = [];
  for (const [file] of rounds('ours')) {
    const from = read(file, 'from');
    const to = read(file, 'to');
    const patch = jsonpatch.compare(from, to);
    const fjpBytes = Buffer.byteLength(JSON.stringify(patch));
    const cmpUs = fastest(() => {
      const t0 = now();
      jsonpatch.compare(from, to);
      return since(t0);
    });
    const applyFjp = fastest(() => {
      const doc = jsonpatch.deepClone(from);
      const t0 = now();
      jsonpatch.applyPatch(doc, patch, false, true);
      return since(t0);
    });
    const result = jsonpatch.applyPatch(jsonpatch.deepClone(from), patch).newDocument;
    const ok = JSON.stringify(result) === JSON.stringify(to) ? 'ok' : 'BAD';
    out.push([file, cmpUs.toFixed(1), applyFjp.toFixed(1), fjpBytes, patch.length, ok].join('\t'));
  }
  fs.writeFileSync(path.join(dir, `fjp.${round}.tsv`), out.join('\n') + '\n');
}

function report() {
  const cols = ['op', 'diff µs', 'text µs', 'fjp cmp µs', 'ratio', 'text ratio',
    'apply µs', 'take µs', 'fjp apply µs', 'apply ratio', 'take ratio', 'bytes',
    'fjp bytes', 'replace', 'ops', 'fjp ops', 'check'];
  const widths = [18, 8, 8, 10, 6, 10, 8, 8, 12, 11, 10, 7, 9, 7, 5, 7, 5];
  const line = (cells) => cells.map((c, i) =>
    i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])).join(' ');
  const fjp = rounds('fjp');
  console.log(line(cols));
  for (const [file, ours] of rounds('ours')) {
    const [, name, , , , , bytes, ops, whole] = ours[0];
    const theirs = fjp.get(file);
    const [diffUs, textUs, applyUs, takeUs] = [2, 3, 4, 5].map((i) => best(ours, i));
    const [cmpUs, applyFjp] = [1, 2].map((i) => best(theirs, i));
    const [, , , fjpBytes, fjpOps] = theirs[0];
    const ok = theirs.every((r) => r[5] === 'ok') ? 'ok' : 'BAD';
    const size = (Number(bytes) <= Number(fjpBytes) && Number(bytes) <= Number(whole)) ? '' : ' !';
    console.log(line([name, diffUs.toFixed(1), textUs.toFixed(1), cmpUs.toFixed(1),
      (cmpUs / diffUs).toFixed(1) + 'x', (cmpUs / textUs).toFixed(1) + 'x',
      applyUs.toFixed(1), takeUs.toFixed(1), applyFjp.toFixed(1),
      (applyUs / applyFjp).toFixed(2), (takeUs / applyFjp).toFixed(2),
      bytes + size, fjpBytes, whole, ops, fjpOps, ok]));
  }
  console.log(`best of ${fjp.size ? [...fjp.values()][0].length : 0} interleaved rounds.`
    + '  ratio: fast-json-patch compare time / our sc_diff time (json-c ops);'
    + ' text ratio: the same / our sc_diff_text time (the ops as text, what the'
    + ' store keeps); higher is better.  apply ratio: our sc_patch_apply time /'
    + ' fast-json-patch applyPatch time; take ratio: the same with'
    + ' sc_patch_apply_take (the patch\'s values moved into the document, as'
    + ' applyPatch does with mutateDocument); lower is better.  "!" marks a patch'
    + ' larger than fjp\'s or a whole replace.');
}

if (mode === 'measure') measure();
else report();
