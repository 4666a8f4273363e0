#!/bin/sh
# Two OS processes, each with its own 8-connection pool (or its own River client), one queue of 20,000 jobs, 1 ms of work each.
cd "$(dirname "$0")"
for round in 1 2 3; do
  for m in outbox river; do
    echo "round=$round $(./bin/pgbench twoproc -mode $m -n 20000 -sleep 1ms)"
  done
done
