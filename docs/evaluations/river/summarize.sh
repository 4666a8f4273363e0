#!/bin/sh
# Ranges (min-max, median) per configuration from the results files.
cd "$(dirname "$0")"
summ() { # $1 file, $2 key fields regex, $3 metric names
  python3 - "$@" <<'PY'
import re, sys, statistics as st, collections
f, keys, metrics = sys.argv[1], sys.argv[2].split(','), sys.argv[3].split(',')
g = collections.OrderedDict()
for line in open(f):
    kv = dict(re.findall(r'(\S+?)=(\S+)', line))
    if not kv: continue
    k = ' '.join(f"{x}={kv.get(x,'')}" for x in keys)
    g.setdefault(k, []).append(kv)
for k, rows in g.items():
    out = []
    for m in metrics:
        v = [float(re.sub(r'[a-z]+$', '', r[m])) for r in rows]
        out.append(f"{m} {min(v):g}-{max(v):g} (median {st.median(v):g})")
    print(f"{k} runs={len(rows)}: " + '; '.join(out))
PY
}
summ results_enqueue.txt mode tps,p50,p99
summ results_workoff.txt mode,n,workers,sleep,cooldown jobs/s,all_recorded_in
summ results_twoproc.txt mode elapsed,ids_run_more_than_once,missing
summ results_sqlite.txt mode tps,p50,p99,worked_during_run
