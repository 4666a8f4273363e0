package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"podium/handlers"
	"podium/mailer"
	"podium/models"
	"podium/views"
)

// server is Podium running in this process.
type server struct {
	base   string
	dbPath string
	store  *models.Store
	worker *mailer.Worker
	sink   *sink
}

func startServer(ctx context.Context, dir string) (*server, error) {
	s := &server{dbPath: filepath.Join(dir, "podium.db")}
	var err error
	if s.store, err = models.Open(ctx, s.dbPath); err != nil {
		return nil, err
	}
	if s.sink, err = startSink(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.base = "http://" + ln.Addr().String()
	site := views.Site{BaseURL: s.base, MailFrom: "bench@podium.example", MailName: "Podium Bench"}
	renderer, err := views.NewEmailRenderer()
	if err != nil {
		return nil, err
	}
	smtpCfg, err := mailer.ParseURL("smtp://" + s.sink.addr)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	s.worker = mailer.NewWorker(s.store, renderer, site, mailer.NewSender(smtpCfg), quiet)
	app, err := handlers.New(handlers.Config{Store: s.store, BaseURL: s.base, Logger: quiet,
		MailFrom: site.MailFrom, MailName: site.MailName, Notify: s.worker.Notify})
	if err != nil {
		return nil, err
	}
	go func() { _ = app.Listener(ln) }()
	return s, nil
}

func benchInProcess(ctx context.Context, o options, out io.Writer) error {
	dir, err := os.MkdirTemp("", "podium-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(ctx, dir)
	if err != nil {
		return err
	}
	defer srv.store.Close()
	fmt.Fprintf(out, "Preparing fixtures (%d registrations, %d fan-out registrants, %d feed sessions)...\n",
		o.seeded, o.fanout, o.feedSessions)
	var rows []result
	for _, phase := range []func(context.Context, *server, options) (result, error){
		phaseLanding, phaseRegister, phaseRace, phaseFanout, phaseFeed,
	} {
		r, err := phase(ctx, srv, o)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	rows = append(rows, result{phase: "peak RSS (server and load generator)", note: peakRSS()})
	printTable(out, rows)
	return nil
}

func phaseLanding(ctx context.Context, srv *server, o options) (result, error) {
	if _, err := addPanel(ctx, srv.store, "bench-landing", false, 0); err != nil {
		return result{}, err
	}
	return landing(ctx, srv.base, o)
}

func landing(ctx context.Context, base string, o options) (result, error) {
	client := newClient(o.conns)
	u := base + "/panels/bench-landing"
	n, lat, failed, took := hammer(ctx, o.conns, o.duration, func(int, int) error { return getOK(client, u) })
	return result{phase: fmt.Sprintf("landing page GET, %d conns", o.conns), count: n, rate: float64(n) / took.Seconds(),
		p50: lat.percentile(0.5), p99: lat.percentile(0.99), errors: failed}, nil
}

func phaseRegister(ctx context.Context, srv *server, o options) (result, error) {
	p, err := addPanel(ctx, srv.store, "bench-register", false, models.MaxCapacity)
	if err != nil {
		return result{}, err
	}
	if err := seedRegistrations(ctx, srv.dbPath, p.Sessions[0].ID, o.seeded); err != nil {
		return result{}, err
	}
	r, err := register(ctx, srv.base, "bench-register", o)
	if err != nil {
		return r, err
	}
	sess, err := srv.store.UpcomingSessions(ctx, p.ID)
	if err != nil || len(sess) != 1 {
		return r, fmt.Errorf("read session: %v", err)
	}
	r.note += fmt.Sprintf("; confirmed %d ≤ capacity %d: %v", sess[0].SeatsTaken, sess[0].Capacity, sess[0].SeatsTaken <= sess[0].Capacity)
	return r, nil
}

// register signs people up as browsers do: GET the page, POST its form.
// Latencies are of the POST; the rate is of complete sign-ups.
func register(ctx context.Context, base, slug string, o options) (result, error) {
	client := newClient(o.conns)
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
		if status != http.StatusSeeOther {
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

func phaseRace(ctx context.Context, srv *server, o options) (result, error) {
	p, err := addPanel(ctx, srv.store, "bench-race", true, o.raceSeats)
	if err != nil {
		return result{}, err
	}
	client := newClient(o.raceClients)
	forms := make([]*form, o.raceClients)
	for i := range forms {
		if forms[i], err = openForm(client, srv.base, "bench-race"); err != nil {
			return result{}, err
		}
	}
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
	counts, err := srv.store.RegistrationCounts(ctx, p.Sessions[0].ID)
	if err != nil {
		return result{}, err
	}
	ok := counts[models.RegistrationConfirmed] == o.raceSeats &&
		counts[models.RegistrationWaitlisted] == o.raceClients-o.raceSeats && serverErrors.Load() == 0 && locked.Load() == 0
	return result{phase: fmt.Sprintf("capacity race: %d at once for %d seats", o.raceClients, o.raceSeats),
		count: o.raceClients, rate: float64(o.raceClients) / took.Seconds(), p50: lat.percentile(0.5), p99: lat.percentile(0.99),
		errors: int(failed.Load() + serverErrors.Load()),
		note: fmt.Sprintf("confirmed %d, waitlisted %d, 5xx %d, 'locked' %d: %s", counts[models.RegistrationConfirmed],
			counts[models.RegistrationWaitlisted], serverErrors.Load(), locked.Load(), passFail(ok))}, nil
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func phaseFanout(ctx context.Context, srv *server, o options) (result, error) {
	p, err := addPanel(ctx, srv.store, "bench-fanout", false, 0)
	if err != nil {
		return result{}, err
	}
	sess := p.Sessions[0]
	if err := seedRegistrations(ctx, srv.dbPath, sess.ID, o.fanout); err != nil {
		return result{}, err
	}
	start := time.Now()
	res, err := srv.store.UpdateSession(ctx, sess.ID, models.SessionUpdate{
		StartsAt: sess.StartsAt.Add(24 * time.Hour), DurationMinutes: sess.DurationMinutes, TimeZone: sess.TimeZone,
		Capacity: sess.Capacity, Waitlist: sess.Waitlist, JoinURL: sess.JoinURL,
	})
	if err != nil {
		return result{}, err
	}
	request := time.Since(start)
	queued := 0
	for {
		n, err := srv.store.RunFanoutBatch(ctx)
		if err != nil {
			return result{}, err
		}
		if n == 0 {
			break
		}
		queued += n
	}
	enqueue := time.Since(start)
	deliverCtx, cancel := context.WithTimeout(ctx, o.deliverFor)
	defer cancel()
	before := srv.sink.received.Load()
	deliverStart := time.Now()
	_ = srv.worker.Run(deliverCtx)
	delivered := srv.sink.received.Load() - before
	rate := float64(delivered) / time.Since(deliverStart).Seconds()
	return result{phase: fmt.Sprintf("fan-out: reschedule with %d registrants", o.fanout), count: queued,
		note: fmt.Sprintf("organizer request %v, all %d queued in %v (fan-out total %d); delivered %d to the SMTP sink in %v: %.0f msg/s",
			request.Round(time.Millisecond), queued, enqueue.Round(time.Millisecond), res.Fanout.Total, delivered,
			o.deliverFor, rate)}, nil
}

func phaseFeed(ctx context.Context, srv *server, o options) (result, error) {
	capacities := make([]int, 10)
	for i := 0; i < o.feedSessions/10; i++ {
		if _, err := addPanel(ctx, srv.store, fmt.Sprintf("bench-feed-%d", i), false, capacities...); err != nil {
			return result{}, err
		}
	}
	client := newClient(1)
	var lat latencies
	var body []byte
	for range 20 {
		t := time.Now()
		resp, err := client.Get(srv.base + "/calendar.ics")
		if err != nil {
			return result{}, err
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		lat.add(time.Since(t))
	}
	return result{phase: fmt.Sprintf("ICS feed of %d+ sessions, 20 GETs", o.feedSessions), count: 20,
		p50: lat.percentile(0.5), p99: lat.percentile(0.99),
		note: fmt.Sprintf("%d KiB, %d events", len(body)/1024, strings.Count(string(body), "BEGIN:VEVENT"))}, nil
}

// peakRSS reads the process's high-water resident set size.
func peakRSS() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
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
