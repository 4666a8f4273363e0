#!/bin/sh
# SQLite, Podium's single write connection (mattn/go-sqlite3, WAL, synchronous=FULL, BEGIN IMMEDIATE), 16 goroutines, 5,000 sign-ups.
cd "$(dirname "$0")"
for round in 1 2 3; do
  for m in none outbox river riveruniq outboxrun riverrun; do
    echo "round=$round $(./bin/sqlitecheck enqueue -mode $m -n 5000 -c 16)"
  done
done
