// Command podium-bench measures Podium under load on this machine: landing
// pages, complete browser registrations on a session that already holds
// 50,000 registrations, a capacity race, a 50,000-registrant fan-out, a
// 1,000-session calendar feed and the process's peak memory. It starts
// Podium in-process on a temporary database and prints one table.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
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
	cpuProfile   string
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
	fs.DurationVar(&o.deliverFor, "deliver-for", 10*time.Second, "how long to measure fan-out delivery to the SMTP sink")
	fs.IntVar(&o.feedSessions, "feed-sessions", 1000, "sessions in the calendar feed")
	fs.StringVar(&o.url, "url", "", "measure a running Podium at this base URL instead (landing and registration phases only)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	err := fs.Parse(args)
	return o, err
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseOptions(args, out)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.url != "" {
		return benchRemote(ctx, o, out)
	}
	return benchInProcess(ctx, o, out)
}
