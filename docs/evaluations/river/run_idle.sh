#!/bin/sh
# What an idle job system writes: PostgreSQL (pg_stat_database deltas) and SQLite (total_changes on the single writer).
cd "$(dirname "$0")"
for round in ${ROUNDS:-1 2}; do
  for m in none outbox river; do
    echo "round=$round $(./bin/pgbench idle -mode $m -secs 60)"
  done
  echo "round=$round $(./bin/sqlitecheck idle -secs 60)"
done
