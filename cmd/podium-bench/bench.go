package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/valyala/fasthttp"

	"podium/mailer/smtptest"
	"podium/models"
)

// bench is one run against podium serve in one or more child processes.
type bench struct {
	o       options
	dsn     string        // the database: a temporary SQLite file or --db
	store   *models.Store // the bench's own connection to the servers' database
	servers []*server
	sinks   []*smtptest.Discard // instance i delivers to sinks[i]
	// The panels the phases use, made before the servers start.
	register, race, fanout *models.Panel
	token                  string // an owner's API token, as an organizer's tool holds one
}

// Bounds on waiting for the server's background work.
const (
	drainTimeout  = 2 * time.Minute
	fanoutTimeout = 5 * time.Minute
)

func benchServer(ctx context.Context, o options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "podium-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{o: o, dsn: o.db}
	if b.dsn == "" {
		b.dsn = filepath.Join(dir, "podium.db")
	} else if err := checkEmpty(ctx, b.dsn); err != nil {
		// Refused before the build, so a wrong URL costs no time.
		return err
	}
	fmt.Fprintln(out, "Building podium...")
	binary, err := buildServer(ctx, dir)
	if err != nil {
		return err
	}
	if b.store, err = models.Open(ctx, b.dsn); err != nil {
		return err
	}
	defer b.store.Close()
	setup, err := b.describeSetup(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Preparing fixtures (%d registrations, %d fan-out registrants, %d feed sessions)...\n",
		o.seeded, o.fanout, o.feedSessions)
	if err := b.prepare(ctx); err != nil {
		return err
	}
	smtpAddrs := make([]string, o.instances)
	for i := range smtpAddrs {
		sink, err := smtptest.StartDiscard()
		if err != nil {
			return err
		}
		defer sink.Close()
		b.sinks = append(b.sinks, sink)
		smtpAddrs[i] = sink.Addr()
	}
	if o.smtpSilent {
		// The kernel accepts the connections and nobody ever answers: each
		// of the worker's connections waits for a greeting, so it renders
		// one batch and then sends nothing while the phases run. (A refused
		// connection would not do: the worker would go through the whole
		// backlog, a claim and a failure record per batch, at full speed.)
		silent, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer silent.Close()
		for i := range smtpAddrs {
			smtpAddrs[i] = silent.Addr().String()
		}
	}
	if b.servers, err = startServers(ctx, binary, b.dsn, dir, smtpAddrs, o.dbPool); err != nil {
		return err
	}
	defer stopServers(b.servers) //nolint:errcheck // stopped below; a second stop does nothing
	for i, s := range b.servers {
		name := "podium serve"
		if len(b.servers) > 1 {
			name = b.instanceName(i) + " (podium serve)"
		}
		fmt.Fprintf(out, "%s is running as pid %d at %s\n", name, s.cmd.Process.Pid, s.base)
	}
	var rows []result
	// The feed comes before the fan-out, whose delivery goes on in the
	// server after its phase ends.
	phases := []func(context.Context) (result, error){
		b.landingPhase, b.registerPhase, b.racePhase, b.feedPhase, b.fanoutPhase, b.webhookPhase,
	}
	if o.smtpSilent {
		phases = phases[:2] // the fan-out phase waits for a delivery that cannot happen
	}
	for _, phase := range phases {
		r, err := phase(ctx)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			printTable(out, setup, rows)
			printLogProblems(out, b.servers, time.Time{})
			return err
		}
		rows = append(rows, r)
	}
	for i, s := range b.servers {
		rows = append(rows, result{phase: fmt.Sprintf("peak RSS of %s (podium serve, pid %d)", b.instanceName(i), s.cmd.Process.Pid),
			note: peakRSS(strconv.Itoa(s.cmd.Process.Pid))})
	}
	rows = append(rows, result{phase: "peak RSS of the load generator (podium-bench)", note: peakRSS("self")})
	printTable(out, setup, rows)
	stopping := time.Now()
	err = stopServers(b.servers)
	printLogProblems(out, b.servers, stopping)
	return err
}

// instanceName names server i in the output: "the server" when it is the
// only one, as the table always said.
func (b *bench) instanceName(i int) string {
	if len(b.servers) == 1 {
		return "the server"
	}
	return fmt.Sprintf("instance %d", i+1)
}

// bases are the servers' base URLs, instance 1 first.
func (b *bench) bases() []string {
	var bases []string
	for _, s := range b.servers {
		bases = append(bases, s.base)
	}
	return bases
}

// describeSetup is the line above the table that says what was measured, so
// that runs on different databases can be set side by side.
func (b *bench) describeSetup(ctx context.Context) (string, error) {
	servers := "1 instance of podium serve"
	if b.o.instances > 1 {
		servers = fmt.Sprintf("%d instances of podium serve", b.o.instances)
	}
	cpus := fmt.Sprintf("; %d CPUs shared by the servers, the database and the load generator", runtime.NumCPU())
	if !models.IsPostgresURL(b.dsn) {
		return "setup: SQLite (a temporary file), " + servers + cpus, nil
	}
	pg, err := describePostgres(ctx, b.dsn)
	if err != nil {
		return "", err
	}
	pool := fmt.Sprintf("PODIUM_DB_POOL %d (the models' default)", models.DefaultPoolSize)
	if b.o.dbPool > 0 {
		pool = fmt.Sprintf("PODIUM_DB_POOL %d", b.o.dbPool)
	}
	return fmt.Sprintf("setup: %s at %s, %s, %s each%s", pg, models.RedactDSN(b.dsn), servers, pool, cpus), nil
}

// printLogProblems quotes the servers' warnings and errors, which the
// temporary folder takes with it when the bench ends. Those logged from
// stopping on (when not zero) are only counted: a server stopped with a
// fan-out's mail still queued logs each send that SIGTERM interrupted.
func printLogProblems(out io.Writer, servers []*server, stopping time.Time) {
	for i, s := range servers {
		if s == nil {
			continue
		}
		name := "the server's log"
		if len(servers) > 1 {
			name = fmt.Sprintf("instance %d's log", i+1)
		}
		lines, before, after := s.logProblems(10, stopping)
		whileStopping := ""
		if after > 0 {
			whileStopping = fmt.Sprintf(" (and %d while stopping, not shown)", after)
		}
		if before == 0 {
			fmt.Fprintf(out, "%s: no warnings or errors during the phases%s\n", name, whileStopping)
			continue
		}
		fmt.Fprintf(out, "%s: %d warnings and errors during the phases%s, the first %d:\n", name, before, whileStopping, len(lines))
		for _, line := range lines {
			fmt.Fprintln(out, "  "+line)
		}
	}
}

// mailed is how many messages the SMTP sinks have received so far, all
// instances together.
func (b *bench) mailed() int64 {
	var total int64
	for _, n := range b.mailedEach() {
		total += n
	}
	return total
}

// mailedEach is how many messages each instance's sink has received.
func (b *bench) mailedEach() []int64 {
	each := make([]int64, len(b.sinks))
	for i, sink := range b.sinks {
		each[i], _ = sink.Received()
	}
	return each
}

func (b *bench) landingPhase(ctx context.Context) (result, error) {
	return landing(ctx, b.bases(), b.o)
}

// landing GETs a panel page from o.conns connections, spread over the
// instances at bases.
func landing(ctx context.Context, bases []string, o options) (result, error) {
	t := newTargets(bases, o.conns)
	defer t.close()
	// One body buffer per connection: the generator shares the machine with
	// the server, and a fresh 12 KiB body per request keeps its GC busy.
	bufs := make([][]byte, o.conns)
	n, lat, failed, took := hammer(ctx, o.conns, o.duration, func(w, _ int) (err error) {
		base, client := t.at(w)
		bufs[w], err = getOK(client, base+"/panels/bench-landing", bufs[w])
		return err
	})
	return result{phase: fmt.Sprintf("landing page GET, %d conns", o.conns), count: n, rate: float64(n) / took.Seconds(),
		p50: lat.percentile(0.5), p99: lat.percentile(0.99), errors: failed}, nil
}

func (b *bench) registerPhase(ctx context.Context) (result, error) {
	mailed := b.mailed()
	r, err := register(ctx, b.bases(), "bench-register", b.o)
	if err != nil {
		return r, err
	}
	sess, err := b.store.UpcomingSessions(ctx, b.register.ID)
	if err != nil || len(sess) != 1 {
		return r, fmt.Errorf("read session: %v", err)
	}
	r.note += fmt.Sprintf("; confirmed %d ≤ capacity %d: %v; %d emails delivered meanwhile", sess[0].SeatsTaken,
		sess[0].Capacity, sess[0].SeatsTaken <= sess[0].Capacity, b.mailed()-mailed)
	return r, nil
}

// register signs people up as browsers do: GET the page, POST its form.
// Latencies are of the POST; the rate is of complete sign-ups. With several
// instances, worker w loads its forms from instance w % N and posts its i-th
// to instance (w+i) % N: behind a load balancer a browser's two requests
// need not meet the same instance, so about half the forms are posted to
// another instance than served them.
func register(ctx context.Context, bases []string, slug string, o options) (result, error) {
	t := newTargets(bases, o.conns)
	defer t.close()
	var lat latencies
	var bad, locked, crossed, crossedBad atomic.Int64
	var perSecond sync.Map
	start := time.Now()
	n, _, failed, took := hammer(ctx, o.conns, o.duration, func(w, i int) error {
		base, client := t.at(w)
		f, err := openForm(client, base, slug)
		if err != nil {
			return err
		}
		postBase, postClient := t.at(w + i)
		tm := time.Now()
		status, lockedAnswer, err := f.submit(postClient, postBase, "Bench Person",
			fmt.Sprintf("bench-%d-%d-%d@example.com", start.UnixNano(), w, i))
		if err != nil {
			return err
		}
		lat.add(time.Since(tm))
		if lockedAnswer {
			locked.Add(1)
		}
		if postBase != base {
			crossed.Add(1)
		}
		if status != fasthttp.StatusSeeOther {
			bad.Add(1)
			if postBase != base {
				crossedBad.Add(1)
			}
			return fmt.Errorf("status %d", status)
		}
		sec := int(time.Since(start).Seconds())
		v, _ := perSecond.LoadOrStore(sec, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		return nil
	})
	first, last := secondCount(&perSecond, 0), secondCount(&perSecond, int(o.duration.Seconds())-1)
	note := fmt.Sprintf("non-303 %d, 'locked' %d; first second %d/s, last second %d/s", bad.Load(), locked.Load(), first, last)
	if len(bases) > 1 {
		note += fmt.Sprintf("; %d forms posted to another instance than served them, non-303 %d of them",
			crossed.Load(), crossedBad.Load())
	}
	return result{phase: fmt.Sprintf("registrations (GET+POST), %d conns", o.conns), count: n,
		rate: float64(n) / took.Seconds(), p50: lat.percentile(0.5), p99: lat.percentile(0.99), errors: failed,
		note: note}, nil
}

func secondCount(m *sync.Map, sec int) int64 {
	if v, ok := m.Load(sec); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (b *bench) racePhase(ctx context.Context) (result, error) {
	o := b.o
	// Racer i loads its form from instance i % N and posts it there, so the
	// race is split evenly over the instances.
	t := newTargets(b.bases(), o.raceClients)
	defer t.close()
	forms := make([]*form, o.raceClients)
	for i := range forms {
		var err error
		base, client := t.at(i)
		if forms[i], err = openForm(client, base, "bench-race"); err != nil {
			return result{}, err
		}
	}
	mailed := b.mailed()
	var wg sync.WaitGroup
	var lat latencies
	var serverErrors, locked, failed atomic.Int64
	gate := make(chan struct{})
	for i, f := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base, client := t.at(i)
			<-gate
			tm := time.Now()
			status, lockedAnswer, err := f.submit(client, base, "Racer", fmt.Sprintf("racer-%d@example.com", i))
			lat.add(time.Since(tm))
			switch {
			case err != nil:
				failed.Add(1)
			case status >= 500:
				serverErrors.Add(1)
			}
			if lockedAnswer {
				locked.Add(1)
			}
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	took := time.Since(start)
	counts, err := b.store.RegistrationCounts(ctx, b.race.Sessions[0].ID)
	if err != nil {
		return result{}, err
	}
	ok := counts[models.RegistrationConfirmed] == o.raceSeats &&
		counts[models.RegistrationWaitlisted] == o.raceClients-o.raceSeats && serverErrors.Load() == 0 && locked.Load() == 0
	phase := fmt.Sprintf("capacity race: %d at once for %d seats", o.raceClients, o.raceSeats)
	if len(b.servers) > 1 {
		phase += fmt.Sprintf(", split over %d instances", len(b.servers))
	}
	return result{phase: phase,
		count: o.raceClients, rate: float64(o.raceClients) / took.Seconds(), p50: lat.percentile(0.5), p99: lat.percentile(0.99),
		errors: int(failed.Load() + serverErrors.Load()),
		note: fmt.Sprintf("confirmed %d, waitlisted %d, 5xx %d, 'locked' %d: %s; %d emails delivered meanwhile",
			counts[models.RegistrationConfirmed], counts[models.RegistrationWaitlisted], serverErrors.Load(),
			locked.Load(), passFail(ok), b.mailed()-mailed)}, nil
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// fanoutPhase reschedules a session through the API and watches the server
// queue an updated invite for every registrant and deliver them.
func (b *bench) fanoutPhase(ctx context.Context) (result, error) {
	waiting, err := b.drainOutbox(ctx)
	if err != nil {
		return result{}, err
	}
	sess := b.fanout.Sessions[0]
	mailedEach := b.mailedEach()
	mailed := b.mailed()
	start := time.Now()
	fanoutID, total, err := reschedule(ctx, b.servers[0].base, b.token, sess.ID, sess.StartsAt.Add(24*time.Hour))
	if err != nil {
		return result{}, err
	}
	request := time.Since(start)
	queued := 0
	err = waitFor(ctx, fanoutTimeout, "fan-out", func() (bool, error) {
		f, err := b.store.FanoutByID(ctx, fanoutID)
		if err != nil {
			return false, err
		}
		queued = f.Enqueued
		return f.Status == models.FanoutDone, nil
	})
	if err != nil {
		return result{}, err
	}
	enqueue := time.Since(start)
	// Delivery is counted from the request until every message has
	// arrived or --deliver-for has passed.
	for b.mailed()-mailed < int64(queued) && time.Since(start) < b.o.deliverFor {
		select {
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	delivered, window := b.mailed()-mailed, time.Since(start)
	byInstance := ""
	if len(b.sinks) > 1 {
		var parts []string
		for i, n := range b.mailedEach() {
			parts = append(parts, strconv.FormatInt(n-mailedEach[i], 10))
		}
		byInstance = " (" + strings.Join(parts, " + ") + " by instance)"
	}
	return result{phase: fmt.Sprintf("fan-out: reschedule with %d registrants", b.o.fanout), count: queued,
		note: fmt.Sprintf("API PATCH %v, all %d queued %v after it (fan-out total %d); delivered %d%s to the SMTP sink "+
			"within %v of it: %.0f msg/s (%d earlier emails drained first)",
			request.Round(time.Millisecond), queued, enqueue.Round(time.Millisecond), total, delivered, byInstance,
			window.Round(100*time.Millisecond), float64(delivered)/window.Seconds(), waiting)}, nil
}

// drainOutbox waits until the server has delivered every waiting message,
// so that the fan-out's deliveries are counted alone, and says how many
// were waiting.
func (b *bench) drainOutbox(ctx context.Context) (int, error) {
	waiting := -1
	err := waitFor(ctx, drainTimeout, "delivery of the earlier phases' emails", func() (bool, error) {
		counts, err := b.store.OutboxCounts(ctx)
		n := counts[models.OutboxQueued] + counts[models.OutboxSending]
		if waiting < 0 {
			waiting = n
		}
		return err == nil && n == 0, err
	})
	return waiting, err
}

// feedPhase GETs the calendar feed 20 times, taking the instances in turn.
func (b *bench) feedPhase(ctx context.Context) (result, error) {
	t := newTargets(b.bases(), 1)
	defer t.close()
	var lat latencies
	var body []byte
	// Each instance's first GET renders; the rest come from its page cache.
	var rendered []string
	for i := range 20 {
		base, client := t.at(i)
		tm := time.Now()
		status, got, err := client.Get(body[:0], base+"/calendar.ics")
		if err != nil {
			return result{}, err
		}
		if status != fasthttp.StatusOK {
			return result{}, fmt.Errorf("GET /calendar.ics: %d", status)
		}
		body = got
		if i < len(b.servers) {
			rendered = append(rendered, time.Since(tm).Round(100*time.Microsecond).String())
		}
		lat.add(time.Since(tm))
	}
	first := "first GET (rendered) " + rendered[0] + ", the rest from the page cache"
	if len(rendered) > 1 {
		first = "each instance's first GET (rendered) " + strings.Join(rendered, ", ") + ", the rest from their page caches"
	}
	return result{phase: fmt.Sprintf("ICS feed of %d+ sessions, 20 GETs", b.o.feedSessions), count: 20,
		p50: lat.percentile(0.5), p99: lat.percentile(0.99),
		note: fmt.Sprintf("%d KiB, %d events; %s", len(body)/1024, strings.Count(string(body), "BEGIN:VEVENT"), first)}, nil
}

func benchRemote(ctx context.Context, o options, out io.Writer) error {
	base := strings.TrimRight(o.url, "/")
	rows := []result{}
	r, err := landing(ctx, []string{base}, o)
	if err != nil {
		return err
	}
	rows = append(rows, r)
	if r, err = register(ctx, []string{base}, "bench-register", o); err != nil {
		return err
	}
	rows = append(rows, r)
	printTable(out, "setup: the running Podium at "+base, rows)
	return nil
}

func printTable(out io.Writer, setup string, rows []result) {
	fmt.Fprintln(out, setup)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "phase\tcount\trate/s\tp50\tp99\terrors\tnotes")
	for _, r := range rows {
		rate := "-"
		if r.rate > 0 {
			rate = fmt.Sprintf("%.0f", r.rate)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%v\t%v\t%d\t%s\n", r.phase, r.count, rate,
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.errors, r.note)
	}
	w.Flush()
}
