#!/bin/sh
# Interleaved enqueue rounds: every mode once per round, 3 rounds.
cd "$(dirname "$0")"
for round in ${ROUNDS:-1 2 3}; do
  for m in none outbox river riveruniq sqloutbox sqlriver; do
    echo "round=$round $(./bin/pgbench enqueue -mode $m -n 20000 -c 16)"
  done
done
