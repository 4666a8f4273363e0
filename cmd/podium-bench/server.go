package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Time limits for the server's start and stop; its own graceful shutdown
// allows requests 15 seconds.
const (
	readyTimeout = 30 * time.Second
	stopTimeout  = 20 * time.Second
)

// server is the real podium binary running as a child process.
type server struct {
	base    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // how it exited; read only after exited is closed
}

// buildServer compiles cmd/podium of the module the bench is run in.
func buildServer(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run podium-bench inside the podium module: go env GOMOD finds no go.mod here")
	}
	root := filepath.Dir(mod)
	binary := filepath.Join(dir, "podium")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/podium")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/podium in %s: %w\n%s", root, err, out)
	}
	return binary, nil
}

// startServers starts n podium serve processes on the database dsn at once,
// instance i logging to logDir/podium-(i+1).log and delivering mail to
// smtpAddrs[i], and returns once each one's /readyz answers 200. pool, when
// above 0, is each one's PODIUM_DB_POOL.
func startServers(ctx context.Context, binary, dsn, logDir string, smtpAddrs []string, pool int) ([]*server, error) {
	servers := make([]*server, len(smtpAddrs))
	errs := make([]error, len(smtpAddrs))
	var wg sync.WaitGroup
	for i, smtpAddr := range smtpAddrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logPath := filepath.Join(logDir, fmt.Sprintf("podium-%d.log", i+1))
			servers[i], errs[i] = startServer(ctx, binary, dsn, logPath, smtpAddr, pool)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("instance %d: %w", i+1, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stopServers(servers)
		return nil, err
	}
	return servers, nil
}

// stopServers stops every server at once, as a deployment would, and
// reports each failure.
func stopServers(servers []*server) error {
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		if s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.stop(); err != nil && len(servers) > 1 {
				errs[i] = fmt.Errorf("instance %d: %w", i+1, err)
			} else {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startServer starts podium serve on a free port and the given database,
// delivering mail to smtpAddr, and returns once /readyz answers 200.
func startServer(ctx context.Context, binary, dsn, logPath, smtpAddr string, pool int) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	// The database goes in the environment, not the command line, where a
	// PostgreSQL URL's password would show in the process list.
	s.cmd = exec.Command(binary, "serve", "--addr", addr)
	s.cmd.Env = append(environWithoutPodium(), "PODIUM_DB="+dsn,
		"PODIUM_BASE_URL="+s.base, "PODIUM_DEMO=false", "PODIUM_REGISTER_LIMIT=0", "PODIUM_WEBHOOK_ALLOW_PRIVATE=true",
		"PODIUM_SMTP_URL=smtp://"+smtpAddr, "PODIUM_MAIL_FROM=Podium Bench <bench@podium.example>")
	if pool > 0 {
		s.cmd.Env = append(s.cmd.Env, "PODIUM_DB_POOL="+strconv.Itoa(pool))
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	stopWithBench(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	client := &http.Client{Timeout: time.Second}
	err = waitFor(ctx, readyTimeout, "podium /readyz", func() (bool, error) {
		select {
		case <-s.exited:
			return false, fmt.Errorf("podium exited while starting: %v\n%s", s.waitErr, s.logTail())
		default:
		}
		resp, err := client.Get(s.base + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// stop sends SIGTERM, as a service manager would, and kills the server if it
// has not exited in time. Stopping twice is harmless.
func (s *server) stop() error {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			return fmt.Errorf("podium was still running %v after SIGTERM and was killed\n%s", stopTimeout, s.logTail())
		}
	}
	if s.waitErr != nil {
		return fmt.Errorf("podium: %v\n%s", s.waitErr, s.logTail())
	}
	return nil
}

// logTail is the end of the server's output, to explain a failure.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// logProblems returns the server log's lines at level WARN or ERROR: the
// first max of those logged before stopping (a zero time: all), and how
// many were logged before it and how many from then on.
func (s *server) logProblems(max int, stopping time.Time) (lines []string, before, after int) {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return []string{"cannot read the log: " + err.Error()}, 1, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		// The log's times are to the millisecond.
		if !stopping.IsZero() && !loggedAt(line).Before(stopping.Truncate(time.Millisecond)) {
			after++
			continue
		}
		before++
		if len(lines) < max {
			if len(line) > 400 {
				line = line[:400] + "…"
			}
			lines = append(lines, line)
		}
	}
	return lines, before, after
}

// loggedAt is the time of a log line slog's text handler wrote, or the
// zero time.
func loggedAt(line string) time.Time {
	v, ok := strings.CutPrefix(line, "time=")
	if !ok {
		return time.Time{}
	}
	v, _, _ = strings.Cut(v, " ")
	t, _ := time.Parse(time.RFC3339Nano, v)
	return t
}

// environWithoutPodium is this process's environment less any PODIUM_*
// setting, so the server runs with the bench's configuration only.
func environWithoutPodium() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PODIUM_") {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitFor polls done until it reports true or fails, or the timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still waiting after %v", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// peakRSS reads a process's high-water resident set size from /proc; pid
// "self" is this process.
func peakRSS(pid string) string {
	status, err := os.ReadFile("/proc/" + pid + "/status")
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
