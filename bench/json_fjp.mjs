// bench/json_fjp.mjs — the fast-json-patch side of bench/json.sh.
//
//   node bench/json_fjp.mjs DIR
//
// DIR holds what BUILD/bench/json_bench wrote: each state pair as
// NAME.from.json / NAME.to.json and our figures in results.tsv.  For each
// pair this times fast-json-patch's compare (parse excluded) and
// applyPatch (on a deep clone each run, the clone excluded) as the fastest
// of repeated runs (as our side does), measures JSON.stringify(patch),
// checks the result, and prints one table beside our figures.  Prints figures; asserts nothing.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import jsonpatch from 'fast-json-patch';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node json_fjp.mjs DIR');
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

function read(name, which) {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.${which}.json`), 'utf8'));
}

const ours = fs.readFileSync(path.join(dir, 'results.tsv'), 'utf8')
  .trim().split('\n').map((l) => l.split('\t'));

const cols = ['op', 'diff µs', 'text µs', 'fjp cmp µs', 'ratio', 'text ratio',
  'apply µs', 'take µs', 'fjp apply µs', 'apply ratio', 'take ratio', 'bytes',
  'fjp bytes', 'replace', 'ops', 'fjp ops', 'check'];
const widths = [18, 8, 8, 10, 6, 10, 8, 8, 12, 11, 10, 7, 9, 7, 5, 7, 5];
const line = (cells) => cells.map((c, i) =>
  i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])).join(' ');
console.log(line(cols));

for (const [file, name, diffUs, textUs, applyUs, takeUs, bytes, ops, whole] of ours) {
  const from = read(file, 'from');
  const to = read(file, 'to');
  const patch = jsonpatch.compare(from, to);
  const fjpBytes = Buffer.byteLength(JSON.stringify(patch));
  const cmpUs = fastest(() => {
    const t0 = performance.now();
    jsonpatch.compare(from, to);
    return performance.now() - t0;
  });
  const applyFjp = fastest(() => {
    const doc = jsonpatch.deepClone(from);
    const t0 = performance.now();
    jsonpatch.applyPatch(doc, patch, false, true);
    return performance.now() - t0;
  });
  const result = jsonpatch.applyPatch(jsonpatch.deepClone(from), patch).newDocument;
  const ok = JSON.stringify(result) === JSON.stringify(to) ? 'ok' : 'BAD';
  const size = (Number(bytes) <= fjpBytes && Number(bytes) <= Number(whole)) ? '' : ' !';
  console.log(line([name, Number(diffUs).toFixed(1), Number(textUs).toFixed(1),
    cmpUs.toFixed(1), (cmpUs / Number(diffUs)).toFixed(1) + 'x',
    (cmpUs / Number(textUs)).toFixed(1) + 'x', Number(applyUs).toFixed(1),
    Number(takeUs).toFixed(1), applyFjp.toFixed(1),
    (Number(applyUs) / applyFjp).toFixed(2), (Number(takeUs) / applyFjp).toFixed(2),
    bytes + size, fjpBytes, whole, ops, patch.length, ok]));
}
console.log('ratio: fast-json-patch compare time / our sc_diff time (json-c ops);'
  + ' text ratio: the same / our sc_diff_text time (the ops as text, what the'
  + ' store keeps); higher is better.  apply ratio: our sc_patch_apply time /'
  + ' fast-json-patch applyPatch time; take ratio: the same with'
  + ' sc_patch_apply_take (the patch\'s values moved into the document, as'
  + ' applyPatch does with mutateDocument); lower is better.  "!" marks a patch'
  + ' larger than fjp\'s or a whole replace.');
