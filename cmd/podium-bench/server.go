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
	"strings"
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

// startServer starts podium serve on a free port and the given database,
// delivering mail to smtpAddr, and returns once /readyz answers 200.
func startServer(ctx context.Context, binary, dbPath, smtpAddr string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr, logPath: filepath.Join(filepath.Dir(dbPath), "podium.log"), exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	s.cmd = exec.Command(binary, "serve", "--addr", addr, "--db", dbPath)
	s.cmd.Env = append(environWithoutPodium(),
		"PODIUM_BASE_URL="+s.base, "PODIUM_DEMO=false", "PODIUM_REGISTER_LIMIT=0",
		"PODIUM_SMTP_URL=smtp://"+smtpAddr, "PODIUM_MAIL_FROM=Podium Bench <bench@podium.example>")
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
