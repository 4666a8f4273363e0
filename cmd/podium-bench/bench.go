package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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

// bench is one run against podium serve in a child process.
type bench struct {
	o      options
	store  *models.Store // the bench's own connection to the server's database
	server *server
	sink   *smtptest.Discard
	// The panels the phases use, made before the server starts.
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
	fmt.Fprintln(out, "Building podium...")
	binary, err := buildServer(ctx, dir)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(dir, "podium.db")
	b := &bench{o: o}
	if b.store, err = models.Open(ctx, dbPath); err != nil {
		return err
	}
	defer b.store.Close()
	fmt.Fprintf(out, "Preparing fixtures (%d registrations, %d fan-out registrants, %d feed sessions)...\n",
		o.seeded, o.fanout, o.feedSessions)
	if err := b.prepare(ctx, dbPath); err != nil {
		return err
	}
	if b.sink, err = smtptest.StartDiscard(); err != nil {
		return err
	}
	defer b.sink.Close()
	smtpAddr := b.sink.Addr()
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
		smtpAddr = silent.Addr().String()
	}
	if b.server, err = startServer(ctx, binary, dbPath, smtpAddr); err != nil {
		return err
	}
	defer b.server.stop()
	pid := b.server.cmd.Process.Pid
	fmt.Fprintf(out, "podium serve is running as pid %d at %s\n", pid, b.server.base)
	var rows []result
	// The feed comes before the fan-out, whose delivery goes on in the
	// server after its phase ends.
	phases := []func(context.Context) (result, error){
		b.landingPhase, b.registerPhase, b.racePhase, b.feedPhase, b.fanoutPhase,
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
			return err
		}
		rows = append(rows, r)
	}
	rows = append(rows,
		result{phase: fmt.Sprintf("peak RSS of the server (podium serve, pid %d)", pid), note: peakRSS(strconv.Itoa(pid))},
		result{phase: "peak RSS of the load generator (podium-bench)", note: peakRSS("self")})
	printTable(out, rows)
	return b.server.stop()
}

// mailed is how many messages the SMTP sink has received so far.
func (b *bench) mailed() int64 {
	n, _ := b.sink.Received()
	return n
}

func (b *bench) landingPhase(ctx context.Context) (result, error) {
	return landing(ctx, b.server.base, b.o)
}

func landing(ctx context.Context, base string, o options) (result, error) {
	client := newClient(o.conns)
	defer client.CloseIdleConnections()
	u := base + "/panels/bench-landing"
	// One body buffer per connection: the generator shares the machine with
	// the server, and a fresh 12 KiB body per request keeps its GC busy.
	bufs := make([][]byte, o.conns)
	n, lat, failed, took := hammer(ctx, o.conns, o.duration, func(w, _ int) (err error) {
		bufs[w], err = getOK(client, u, bufs[w])
		return err
	})
	return result{phase: fmt.Sprintf("landing page GET, %d conns", o.conns), count: n, rate: float64(n) / took.Seconds(),
		p50: lat.percentile(0.5), p99: lat.percentile(0.99), errors: failed}, nil
}

func (b *bench) registerPhase(ctx context.Context) (result, error) {
	mailed := b.mailed()
	r, err := register(ctx, b.server.base, "bench-register", b.o)
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
// Latencies are of the POST; the rate is of complete sign-ups.
func register(ctx context.Context, base, slug string, o options) (result, error) {
	client := newClient(o.conns)
	defer client.CloseIdleConnections()
	var lat latencies
	var bad, locked atomic.Int64
	var perSecond sync.Map
	start := time.Now()
	n, _, failed, took := hammer(ctx, o.conns, o.duration, func(w, i int) error {
		f, err := openForm(client, base, slug)
		if err != nil {
			return err
		}
		t := time.Now()
		status, lockedAnswer, err := f.submit(client, "Bench Person", fmt.Sprintf("bench-%d-%d-%d@example.com", start.UnixNano(), w, i))
		if err != nil {
			return err
		}
		lat.add(time.Since(t))
		if lockedAnswer {
			locked.Add(1)
		}
		if status != fasthttp.StatusSeeOther {
			bad.Add(1)
			return fmt.Errorf("status %d", status)
		}
		sec := int(time.Since(start).Seconds())
		v, _ := perSecond.LoadOrStore(sec, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		return nil
	})
	first, last := secondCount(&perSecond, 0), secondCount(&perSecond, int(o.duration.Seconds())-1)
	return result{phase: fmt.Sprintf("registrations (GET+POST), %d conns", o.conns), count: n,
		rate: float64(n) / took.Seconds(), p50: lat.percentile(0.5), p99: lat.percentile(0.99), errors: failed,
		note: fmt.Sprintf("non-303 %d, 'locked' %d; first second %d/s, last second %d/s", bad.Load(), locked.Load(), first, last)}, nil
}

func secondCount(m *sync.Map, sec int) int64 {
	if v, ok := m.Load(sec); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (b *bench) racePhase(ctx context.Context) (result, error) {
	o := b.o
	client := newClient(o.raceClients)
	defer client.CloseIdleConnections()
	forms := make([]*form, o.raceClients)
	for i := range forms {
		var err error
		if forms[i], err = openForm(client, b.server.base, "bench-race"); err != nil {
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
			<-gate
			t := time.Now()
			status, lockedAnswer, err := f.submit(client, "Racer", fmt.Sprintf("racer-%d@example.com", i))
			lat.add(time.Since(t))
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
	return result{phase: fmt.Sprintf("capacity race: %d at once for %d seats", o.raceClients, o.raceSeats),
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
	mailed := b.mailed()
	start := time.Now()
	fanoutID, total, err := reschedule(ctx, b.server.base, b.token, sess.ID, sess.StartsAt.Add(24*time.Hour))
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
	return result{phase: fmt.Sprintf("fan-out: reschedule with %d registrants", b.o.fanout), count: queued,
		note: fmt.Sprintf("API PATCH %v, all %d queued %v after it (fan-out total %d); delivered %d to the SMTP sink "+
			"within %v of it: %.0f msg/s (%d earlier emails drained first)",
			request.Round(time.Millisecond), queued, enqueue.Round(time.Millisecond), total, delivered,
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

func (b *bench) feedPhase(ctx context.Context) (result, error) {
	client := newClient(1)
	defer client.CloseIdleConnections()
	var lat latencies
	var body []byte
	var rendered time.Duration // the first GET renders; the rest come from the page cache
	for i := range 20 {
		t := time.Now()
		status, got, err := client.Get(body[:0], b.server.base+"/calendar.ics")
		if err != nil {
			return result{}, err
		}
		if status != fasthttp.StatusOK {
			return result{}, fmt.Errorf("GET /calendar.ics: %d", status)
		}
		body = got
		if i == 0 {
			rendered = time.Since(t)
		}
		lat.add(time.Since(t))
	}
	return result{phase: fmt.Sprintf("ICS feed of %d+ sessions, 20 GETs", b.o.feedSessions), count: 20,
		p50: lat.percentile(0.5), p99: lat.percentile(0.99),
		note: fmt.Sprintf("%d KiB, %d events; first GET (rendered) %v, the rest from the page cache",
			len(body)/1024, strings.Count(string(body), "BEGIN:VEVENT"), rendered.Round(100*time.Microsecond))}, nil
}

func benchRemote(ctx context.Context, o options, out io.Writer) error {
	base := strings.TrimRight(o.url, "/")
	rows := []result{}
	r, err := landing(ctx, base, o)
	if err != nil {
		return err
	}
	rows = append(rows, r)
	if r, err = register(ctx, base, "bench-register", o); err != nil {
		return err
	}
	rows = append(rows, r)
	printTable(out, rows)
	return nil
}

func printTable(out io.Writer, rows []result) {
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
