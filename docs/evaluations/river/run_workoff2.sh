#!/bin/sh
# Extra interleaved work-off rounds on a quieter machine, without the timer-bound
# River MaxWorkers=4/default-cooldown case (39-40 jobs/s in every earlier run).
cd "$(dirname "$0")"
for round in ${ROUNDS:-4 5 6}; do
  for s in 0 1ms; do
    echo "round=$round $(./bin/pgbench workoff -mode outbox -n 20000 -workers 4 -sleep $s)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 20000 -workers 64 -sleep $s)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 20000 -workers 4 -sleep $s -cooldown 1ms)"
    echo "round=$round $(./bin/pgbench workoff -mode river -n 20000 -workers 64 -sleep $s -cooldown 1ms)"
  done
done
