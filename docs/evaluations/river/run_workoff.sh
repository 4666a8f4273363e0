#!/bin/sh
# Interleaved work-off rounds. River with MaxWorkers 4 at the default
# FetchCooldown runs ~40 jobs/s, so it gets 2,000 jobs instead of 20,000.
cd "$(dirname "$0")"
for round in ${ROUNDS:-1 2 3}; do
  for s in 0 1ms; do
    echo "round=$round $(./bin/pgbench workoff -mode outbox -n 20000 -workers 4 -sleep $s)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 2000 -workers 4 -sleep $s)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 20000 -workers 64 -sleep $s)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 20000 -workers 4 -sleep $s -cooldown 1ms)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 20000 -workers 64 -sleep $s -cooldown 1ms)"
  done
done
