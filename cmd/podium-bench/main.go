// Command podium-bench measures Podium under load on this machine: landing
// pages, complete browser registrations on a session that already holds
// 50,000 registrations, a capacity race, a 1,000-session calendar feed, a
// 50,000-registrant fan-out and the server's peak memory. It builds the real
// podium binary, runs "podium serve" as a child process on a temporary
// database with mail going to an SMTP sink inside the bench, and prints one
// table. The bench's own store on the same SQLite file adds the fixtures
// before the server starts and checks the results.
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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
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
	url          string
	smtpSilent   bool
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
	fs.StringVar(&o.url, "url", "", "measure a running Podium at this base URL instead (landing and registration phases only)")
	fs.BoolVar(&o.smtpSilent, "smtp-silent", false, "give the server an SMTP server that never answers, so no email is sent "+
		"while the sign-ups are measured (landing and registration phases only)")
	err := fs.Parse(args)
	return o, err
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseOptions(args, out)
	if err != nil {
		return err
	}
	if o.url != "" {
		return benchRemote(ctx, o, out)
	}
	return benchServer(ctx, o, out)
}
