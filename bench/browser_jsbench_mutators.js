// Mutators of the jsbench app's events (examples/jsbench/app.c), for the
// optimistic-update benchmarks: the same changes as the server's, as JSON
// Patches or new states with structural sharing.
const at = (s, id) => s.rows.findIndex((r) => r.id === id);

export const jsbenchMutators = {
  select: (s, p) => (at(s, p.id) < 0 ? undefined : [{ op: 'replace', path: '/selected', value: p.id }]),
  remove(s, p) {
    const i = at(s, p.id);
    return i < 0 ? undefined : [{ op: 'remove', path: `/rows/${i}` }];
  },
  swap(s) {
    if (s.rows.length < 999) return undefined;
    return [
      { op: 'replace', path: '/rows/1', value: s.rows[998] },
      { op: 'replace', path: '/rows/998', value: s.rows[1] },
    ];
  },
  update_every_10th(s) {
    const rows = s.rows.slice();
    for (let i = 0; i < rows.length; i += 10) rows[i] = { ...rows[i], label: `${rows[i].label} !!!` };
    return { ...s, rows };
  },
};
