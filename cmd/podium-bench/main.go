// Command podium-bench measures Podium under load on this machine: landing
// pages, complete browser registrations on a session that already holds
// 50,000 registrations, a capacity race, a 1,000-session calendar feed, a
// 50,000-registrant fan-out and the server's peak memory. It builds the real
// podium binary, runs "podium serve" as a child process on a temporary
// database with mail going to an SMTP sink inside the bench, and prints one
// table. The bench's own store on the same database adds the fixtures
// before the server starts and checks the results.
//
// By default the database is a temporary SQLite file and one server runs.
// With --db postgres://… the bench fills that PostgreSQL database, which must
// be empty, and --instances N runs N "podium serve" processes on it, each on
// its own port with its own log and SMTP sink; the load phases spread their
// connections over the instances.
//
// As in production, the server's outbox worker runs throughout: it delivers
// sign-ups' confirmations to the sink during the registration phases, at the
// reduced pace of a busy server (mailer.Worker.Busy).
// The fan-out phase waits for that backlog to drain first, so its delivery
// rate counts the fan-out's messages only.
//
// To profile the server, attach a sampling profiler to the pid the bench
// prints (perf record -g -p PID); podium has no profiling hook of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"podium/models"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "podium-bench:", err)
		os.Exit(1)
	}
}

// options are the bench's knobs; the defaults are the scenario.
type options struct {
	conns        int
	duration     time.Duration
	seeded       int
	raceSeats    int
	raceClients  int
	fanout       int
	deliverFor   time.Duration
	feedSessions int
	webhooks     int
	url          string
	smtpSilent   bool
	db           string // an empty PostgreSQL database's URL, or "" for a temporary SQLite file
	instances    int
	dbPool       int // PODIUM_DB_POOL for each instance; 0 leaves the models' default
}

func parseOptions(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("podium-bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.conns, "conns", 64, "concurrent connections for the load phases")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each load phase")
	fs.IntVar(&o.seeded, "seeded", 50_000, "registrations already in the session the registration phase signs up for")
	fs.IntVar(&o.raceSeats, "race-seats", 100, "seats in the capacity race")
	fs.IntVar(&o.raceClients, "race-clients", 1000, "simultaneous sign-ups in the capacity race")
	fs.IntVar(&o.fanout, "fanout", 50_000, "confirmed registrants of the rescheduled session")
	fs.DurationVar(&o.deliverFor, "deliver-for", 10*time.Second, "how long after the reschedule request to count fan-out deliveries to the SMTP sink")
	fs.IntVar(&o.feedSessions, "feed-sessions", 1000, "sessions in the calendar feed")
	fs.IntVar(&o.webhooks, "webhooks", 5000, "webhook events delivered to a loopback receiver")
	fs.StringVar(&o.url, "url", "", "measure a running Podium at this base URL instead (landing and registration phases only)")
	fs.BoolVar(&o.smtpSilent, "smtp-silent", false, "give the server an SMTP server that never answers, so no email is sent "+
		"while the sign-ups are measured (landing and registration phases only)")
	fs.StringVar(&o.db, "db", "", "an EMPTY PostgreSQL database to fill and serve from (postgres:// or postgresql:// URL), "+
		"left filled afterwards: createdb a new one per run (default: a temporary SQLite file)")
	fs.IntVar(&o.instances, "instances", 1, "podium serve processes on the one database (more than 1 needs --db postgres://…)")
	fs.IntVar(&o.dbPool, "db-pool", 0, "PODIUM_DB_POOL for each instance on PostgreSQL (default: the models' default)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, o.check()
}

// check refuses combinations the bench cannot run.
func (o options) check() error {
	postgres := models.IsPostgresURL(o.db)
	switch {
	case o.db != "" && !postgres:
		return fmt.Errorf("--db takes a postgres:// or postgresql:// URL of an empty database; " +
			"without it the bench uses a temporary SQLite file")
	case o.instances < 1:
		return fmt.Errorf("--instances must be 1 or more, got %d", o.instances)
	case o.instances > 1 && !postgres:
		return fmt.Errorf("--instances %d needs --db postgres://…: a SQLite file is served by one process", o.instances)
	case o.dbPool < 0 || o.dbPool > 1000:
		return fmt.Errorf("--db-pool must be from 1 to 1000, got %d", o.dbPool)
	case o.dbPool > 0 && !postgres:
		return fmt.Errorf("--db-pool needs --db postgres://…: SQLite has one writer")
	case o.url != "" && (o.db != "" || o.instances > 1):
		return fmt.Errorf("--url measures a running Podium; it does not go with --db or --instances")
	}
	return nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseOptions(args, out)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.url != "" {
		return benchRemote(ctx, o, out)
	}
	return benchServer(ctx, o, out)
}
