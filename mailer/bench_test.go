//go:build unix

package mailer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"podium/mailer/smtptest"
	"podium/models"
)

// The benchmarks report, besides ns/op (wall time per message), cpu-ns/op:
// the user and system CPU time this process spent per message, which is
// what a message costs the machine apart from the SMTP server (a separate
// process here). bytes/op is the size of a message as the server read it.

// BenchmarkDeliver_Confirmations renders, builds and sends confirmation
// emails the way Worker.RunOnce does, in batches of 25 over one SMTP
// connection each, without the database work of claiming and recording.
func BenchmarkDeliver_Confirmations(b *testing.B) {
	env := newBenchEnv(b)
	env.registerMany(b, env.worker.Batch)
	claimed, err := env.store.ClaimOutbox(context.Background(), env.worker.Batch, time.Hour)
	if err != nil || len(claimed) != env.worker.Batch {
		b.Fatalf("claimed %d of %d: %v", len(claimed), env.worker.Batch, err)
	}
	now := env.store.Now()
	b.ReportAllocs()
	meter := newCPUMeter(b, env.sink)
	meter.resume(b)
	for sent := 0; sent < b.N; {
		batch := claimed[:min(len(claimed), b.N-sent)]
		outgoing := make([]Message, len(batch))
		for i := range batch {
			if outgoing[i], err = env.worker.compose(&batch[i], now); err != nil {
				b.Fatal(err)
			}
		}
		for _, err := range env.worker.sender.Send(context.Background(), outgoing) {
			if err != nil {
				b.Fatal(err)
			}
		}
		sent += len(batch)
	}
	meter.pause(b)
	meter.report(b)
}

// BenchmarkWorker_RunOnceConfirmations is the worker's whole path for
// confirmation emails: claim a batch, render, build, send and record. Only
// the sign-ups that queue the emails are left out of the timing.
func BenchmarkWorker_RunOnceConfirmations(b *testing.B) {
	env := newBenchEnv(b)
	b.ReportAllocs()
	meter := newCPUMeter(b, env.sink)
	for sent := 0; sent < b.N; {
		n := min(env.worker.Batch, b.N-sent)
		env.registerMany(b, n)
		meter.resume(b)
		claimed, err := env.worker.RunOnce(context.Background())
		if err != nil || claimed != n {
			b.Fatalf("RunOnce claimed %d of %d: %v", claimed, n, err)
		}
		meter.pause(b)
		sent += n
	}
	meter.report(b)
}

// benchEnv is a real store with one panel, a worker and a sink that takes
// every message and throws it away.
type benchEnv struct {
	store  *models.Store
	worker *Worker
	sink   *discardSink
	panel  *models.Panel
	sess   models.Session
	regs   int
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	panel := &models.Panel{
		Title: "Cities, heat; and \"us\" — 城市与气候", Status: models.PanelPublished,
		Summary:       "Hot summers, cool heads: how three cities plan for the heat, and what residents can do.",
		OrganizerName: "Podium Events", OrganizerEmail: "organiser@podium.example",
		Speakers: []models.Speaker{{Name: "Zoë Al-Hakim"}, {Name: "Ada Lovelace"}},
		Sessions: []models.Session{{StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60,
			TimeZone: "Europe/London", Capacity: 0, JoinURL: "https://meet.example.com/heat"}},
	}
	sink := startDiscardSink(b)
	sender := NewSender(Config{Host: "127.0.0.1", Port: sink.port, CommandTimeout: 10 * time.Second})
	store, _, w := newTestWorker(b, panel, sender)
	return &benchEnv{store: store, worker: w, sink: sink, panel: panel, sess: panel.Sessions[0]}
}

// registerMany signs up n new people, which queues n confirmations.
func (e *benchEnv) registerMany(b *testing.B, n int) {
	b.Helper()
	for range n {
		e.regs++
		_, err := e.store.Register(context.Background(), e.panel.ID, models.RegistrationInput{
			SessionID: e.sess.ID, Name: fmt.Sprintf("Guest Nº %d", e.regs),
			Email: fmt.Sprintf("guest%d@example.com", e.regs), Consent: true})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// The sink runs in a child process, this test binary started again with
// sinkEnv set, so that the process's CPU time is the client's alone: in
// production the SMTP server is another machine.
const sinkEnv = "PODIUM_BENCH_SMTP_SINK"

func TestMain(m *testing.M) {
	if os.Getenv(sinkEnv) != "" {
		if err := serveDiscardSink(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// discardSink talks to the sink process: it sends a line on the child's
// stdin to ask for the counts, and closes it to stop the child.
type discardSink struct {
	port    int
	control io.Writer
	counts  *bufio.Scanner
}

func startDiscardSink(b *testing.B) *discardSink {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), sinkEnv+"=1")
	cmd.Stderr = os.Stderr
	control, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = control.Close()
		_ = cmd.Wait()
	})
	sink := &discardSink{control: control, counts: bufio.NewScanner(out)}
	if !sink.counts.Scan() {
		b.Fatalf("SMTP sink did not start: %v", sink.counts.Err())
	}
	if sink.port, err = strconv.Atoi(sink.counts.Text()); err != nil {
		b.Fatalf("SMTP sink said %q instead of its port", sink.counts.Text())
	}
	return sink
}

// received returns how many messages and bytes the sink has taken so far.
func (s *discardSink) received(b *testing.B) (messages, bytes int64) {
	b.Helper()
	if _, err := io.WriteString(s.control, "count\n"); err != nil || !s.counts.Scan() {
		b.Fatalf("SMTP sink is gone: %v %v", err, s.counts.Err())
	}
	if _, err := fmt.Sscan(s.counts.Text(), &messages, &bytes); err != nil {
		b.Fatalf("SMTP sink said %q: %v", s.counts.Text(), err)
	}
	return messages, bytes
}

// serveDiscardSink runs an smtptest.Discard server, which keeps only
// counts, so that a long benchmark does not fill memory. It writes its port
// to out, then the counts for every line read from control, and returns when
// control ends.
func serveDiscardSink(control io.Reader, out io.Writer) error {
	sink, err := smtptest.StartDiscard()
	if err != nil {
		return err
	}
	defer sink.Close()
	_, port, err := net.SplitHostPort(sink.Addr())
	if err != nil {
		return err
	}
	fmt.Fprintln(out, port)
	lines := bufio.NewScanner(control)
	for lines.Scan() {
		messages, bytes := sink.Received()
		fmt.Fprintln(out, messages, bytes)
	}
	return lines.Err()
}

// cpuMeter adds up the process's CPU time over the timed parts of a
// benchmark, and checks that every message of the benchmark reached the sink.
type cpuMeter struct {
	sink      *discardSink
	cpu, from time.Duration
	messages0 int64
	bytes0    int64
}

// newCPUMeter stops and resets the benchmark timer; resume starts it.
func newCPUMeter(b *testing.B, sink *discardSink) *cpuMeter {
	m := &cpuMeter{sink: sink}
	m.messages0, m.bytes0 = sink.received(b)
	b.StopTimer()
	b.ResetTimer()
	return m
}

func (m *cpuMeter) resume(b *testing.B) {
	b.StartTimer()
	m.from = processCPU(b)
}

func (m *cpuMeter) pause(b *testing.B) {
	m.cpu += processCPU(b) - m.from
	b.StopTimer()
}

func (m *cpuMeter) report(b *testing.B) {
	messages, bytes := m.sink.received(b)
	if messages-m.messages0 != int64(b.N) {
		b.Fatalf("sink received %d messages, want %d", messages-m.messages0, b.N)
	}
	b.ReportMetric(float64(m.cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(bytes-m.bytes0)/float64(b.N), "bytes/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
