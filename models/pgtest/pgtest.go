// Package pgtest gives tests a real, empty PostgreSQL database each: from
// the server PODIUM_TEST_POSTGRES names, or from a throw-away cluster it
// starts with Debian's postgresql package (initdb in a temporary folder, a
// free loopback port, stopped by Main when the tests end). Without either,
// tests that ask for one skip with a hint; with CI=true they fail instead.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
)

// server is the cluster every test of this process shares.
var server struct {
	once    sync.Once
	admin   string // URL of a database the tests' databases are made from
	err     error
	stop    func()
	counter atomic.Int64
}

// pass is the database the tests of this pass run on (see Main).
var pass = "sqlite"

// Main runs a package's tests on SQLite, then again on PostgreSQL when a
// server can be had, and stops the cluster it started, if any. Without a
// server the second pass is skipped with a hint, or fails with CI=true.
// Call it from TestMain: os.Exit(pgtest.Main(m, "models")).
func Main(m *testing.M, pkg string) int {
	if code := m.Run(); code != 0 {
		return code
	}
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Printf("FAIL: %s: PostgreSQL is needed in CI: %v\n", pkg, err)
			return 1
		}
		fmt.Printf("%s: PostgreSQL pass skipped: %v (install Debian's postgresql package, or set PODIUM_TEST_POSTGRES)\n", pkg, err)
		return 0
	}
	fmt.Printf("=== %s: the same tests on PostgreSQL\n", pkg)
	pass = "postgres"
	code := m.Run()
	Stop()
	return code
}

// Stop stops the throw-away cluster, if this process started one. Main
// calls it; a package that asks for databases with URL but runs its tests
// once, not through Main, calls it from TestMain after m.Run.
func Stop() {
	if server.stop != nil {
		server.stop()
		server.stop = nil
	}
}

// Postgres reports whether this pass runs on PostgreSQL.
func Postgres() bool { return pass == "postgres" }

// DSN is a new, empty database for one test on this pass's database: a
// SQLite file in t's temporary folder, or a PostgreSQL database (URL).
func DSN(t testing.TB) string {
	t.Helper()
	if Postgres() {
		return URL(t)
	}
	return filepath.Join(t.TempDir(), "podium.db")
}

// SQLiteOnly skips a test of something only SQLite has (its query plans,
// its files, one process per file).
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if Postgres() {
		t.Skip("SQLite only: " + why)
	}
}

// AtOnce runs call(0) … call(n-1) in goroutines released together, and
// waits for them all: the shape of every race between instances.
func AtOnce(n int, call func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; call(i) }()
	}
	close(start)
	wg.Wait()
}

// Available reports whether tests can have a PostgreSQL database, starting
// the throw-away cluster if needed; the error says why not.
func Available() error {
	server.once.Do(func() { server.admin, server.stop, server.err = start() })
	return server.err
}

// URL returns the URL of a new, empty database that is dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is needed in CI: %v", err)
		}
		t.Skipf("PostgreSQL tests skipped: %v (install Debian's postgresql package, or set PODIUM_TEST_POSTGRES to a server's URL)", err)
	}
	name := fmt.Sprintf("podium_test_%d_%d", os.Getpid(), server.counter.Add(1))
	admin, err := sql.Open("pgx", server.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", server.admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, _ := url.Parse(server.admin)
	u.Path = "/" + name
	return u.String()
}

// start finds a server: PODIUM_TEST_POSTGRES, or a new cluster.
func start() (string, func(), error) {
	if u := os.Getenv("PODIUM_TEST_POSTGRES"); u != "" {
		return u, nil, ping(u, 10*time.Second)
	}
	bin, err := binDir()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "podium-pgtest-")
	if err != nil {
		return "", nil, err
	}
	// initdb refuses to run as root: the cluster belongs to the postgres
	// user then, and its folder too.
	run := func(name string, args ...string) *exec.Cmd { return exec.Command(filepath.Join(bin, name), args...) }
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, errors.New("running as root, and there is no postgres user to own the cluster")
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	// Durability is not under test here: fsync off keeps the suite fast.
	srv := run("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300")
	// The server's log stays beside the cluster, for a look while tests run.
	logFile, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("podium-pgtest-%d.log", os.Getpid())))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stop := func() {
		// pg_ctl signals the server itself: as root, srv is runuser, which
		// does not pass SIGINT on, and the server outlived the tests (until
		// it noticed its folder gone) after a 10-second wait for it here.
		_ = run("pg_ctl", "stop", "-D", data, "-m", "fast", "-s").Run()
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
		}
		logFile.Close()
		os.Remove(logFile.Name())
		os.RemoveAll(dir)
	}
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := ping(admin, 30*time.Second); err != nil {
		stop()
		return "", nil, err
	}
	return admin, stop, nil
}

// binDir finds Debian's PostgreSQL programs, the newest version first.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server programs (initdb) on this machine")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ping waits until the server answers.
func ping(u string, within time.Duration) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		if err = db.PingContext(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL does not answer: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
