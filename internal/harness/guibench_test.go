package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// The GUI benchmarks (docs/build-notes.md "Benchmarks"). Each reports
// qrlogin's figure, the figure of a minimal Fyne window
// (internal/benchapp/hello: a label and a button, same Fyne, same plain build
// flags) measured in the same run on the same Xvfb, and their ratio (or
// difference), with b.ReportMetric. `make bench` runs them under
// scripts/with-test-session. Targets:
//
//	start-up (process start → QR code readable) ≤ 1.5 × hello's (window drawn)
//	resident memory while showing the QR        ≤ 1.15 × hello's
//	CPU while idle on the QR screen             ≤ hello's + 1 percentage point

// helloTitle is internal/benchapp/hello's window title.
const helloTitle = "Hello benchmark"

var helloBuilt struct {
	once sync.Once
	path string
	err  error
	log  []byte
}

// helloBinary builds the yardstick window once, with qrlogin's flags.
func helloBinary(tb testing.TB) string {
	tb.Helper()
	helloBuilt.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			helloBuilt.err = err
			return
		}
		dir, err := os.MkdirTemp("", "qrlogin-hello-")
		if err != nil {
			helloBuilt.err = err
			return
		}
		helloBuilt.path = filepath.Join(dir, "hello")
		cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", helloBuilt.path, "./internal/benchapp/hello")
		cmd.Dir = root
		helloBuilt.log, helloBuilt.err = cmd.CombinedOutput()
	})
	if helloBuilt.err != nil {
		tb.Fatalf("go build hello: %v\n%s", helloBuilt.err, helloBuilt.log)
	}
	return helloBuilt.path
}

// guiRun is one launched program, measured.
type guiRun struct {
	proc    *guiProcess
	startup time.Duration // process start → QR readable (qrlogin) or window drawn (hello)
}

// startAttempts bounds the launches of one program for one measurement. A
// start can fail for reasons outside the program (an X server that cannot
// take the connection at that moment: the program exits before its window
// appears; see scripts/with-test-session on -noreset): such a start is
// retried, said in the log and counted in the retries/op metric, and only
// startAttempts failures in a row fail the benchmark.
const startAttempts = 3

// launcher starts the two programs for one benchmark and counts the starts
// it had to retry.
type launcher struct {
	b       *testing.B
	ctx     context.Context
	retries int
}

func (l *launcher) hello() guiRun {
	l.b.Helper()
	return l.launch("hello", func() (guiRun, error) { return launchHello(l.b, l.ctx) })
}

func (l *launcher) app(homeserver string) guiRun {
	l.b.Helper()
	return l.launch("qrlogin", func() (guiRun, error) { return launchApp(l.b, l.ctx, homeserver) })
}

func (l *launcher) launch(what string, start func() (guiRun, error)) guiRun {
	l.b.Helper()
	run, retries, err := retryStart(l.b.Logf, what, startAttempts, start)
	l.retries += retries
	if err != nil {
		l.b.Fatal(err)
	}
	return run
}

// report adds the retries/op metric.
func (l *launcher) report() {
	l.b.ReportMetric(float64(l.retries)/float64(l.b.N), "retries/op")
}

// retryStart calls start until it succeeds, at most attempts times, and
// logs each failure. It returns the successful run, how many starts failed
// before it, and, when every start failed, an error holding each reason.
func retryStart(logf func(format string, args ...any), what string, attempts int, start func() (guiRun, error)) (guiRun, int, error) {
	var errs []error
	for attempt := 1; attempt <= attempts; attempt++ {
		run, err := start()
		if err == nil {
			return run, attempt - 1, nil
		}
		errs = append(errs, fmt.Errorf("start %d of %d: %w", attempt, attempts, err))
		if attempt < attempts {
			logf("%s: start %d of %d failed, retrying: %v", what, attempt, attempts, err)
		}
	}
	return guiRun{}, attempts, fmt.Errorf("%s failed to start %d times in a row:\n%w", what, attempts, errors.Join(errs...))
}

// launchHello starts the yardstick and waits until its window is drawn.
// On failure the process is stopped and the error holds its exit status
// and output.
func launchHello(b *testing.B, ctx context.Context) (guiRun, error) {
	b.Helper()
	p := startGUI(b, helloBinary(b), []string{"XDG_CONFIG_HOME=" + b.TempDir()})
	win, err := findWindowFast(ctx, helloTitle, p)
	if err != nil {
		return guiRun{}, p.failed(b, err)
	}
	var drawn time.Time
	err = waitUntil(ctx, 0, func() error {
		shot, err := grab(ctx, win)
		taken := time.Now()
		if err != nil {
			return err
		}
		if err := checkDrawn(shot); err != nil {
			return err
		}
		drawn = taken
		return nil
	})
	if err != nil {
		return guiRun{}, p.failed(b, fmt.Errorf("hello never drew: %w", err))
	}
	// Not logged per launch: go test keeps only the first ten lines of a
	// benchmark's log, which are better spent on retried starts and the
	// spread (reportSpread).
	return guiRun{proc: p, startup: drawn.Sub(p.started)}, nil
}

// launchApp starts `qrlogin login --homeserver URL`, which opens the
// window already signing in (no key press to wait for), and waits until
// the QR code in it is readable. On failure the process is stopped and the
// error holds its exit status and output.
func launchApp(b *testing.B, ctx context.Context, homeserver string) (guiRun, error) {
	b.Helper()
	p := startGUI(b, qrloginBinary(b), settingsEnv(b, homeserver, ""), "login", "--homeserver", homeserver)
	win, err := findWindowFast(ctx, identity.DisplayName, p)
	if err != nil {
		return guiRun{}, p.failed(b, err)
	}
	mapped := time.Since(p.started)
	qrCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, _, seen, err := waitForQR(qrCtx, win, 0)
	if err != nil {
		return guiRun{}, p.failed(b, err)
	}
	startup := seen.Sub(p.started)
	b.Logf("qrlogin: window after %v, QR code readable after %v", mapped.Round(time.Millisecond), startup.Round(time.Millisecond))
	if startup > 5*time.Second {
		b.Logf("qrlogin was slow to show a readable code; its output:\n%s", p.logs.String())
	}
	return guiRun{proc: p, startup: startup}, nil
}

// failed stops a start that went wrong and returns err with the process's
// exit status and output.
func (p *guiProcess) failed(tb testing.TB, err error) error {
	exited := isClosed(p.exited)
	p.stop(tb)
	if exited {
		err = fmt.Errorf("%w (exit: %v)", err, p.exitErr)
	}
	return fmt.Errorf("%w\noutput:\n%s", err, p.logs.String())
}

// findWindowFast polls for the mapped window every 10 ms, for start-up
// timing.
func findWindowFast(ctx context.Context, title string, p *guiProcess) (string, error) {
	return findVisibleWindow(ctx, title, p.exited, 10*time.Millisecond)
}

// reportSpread reports the median of xs as name-unit (the figure the
// targets above compare), the smallest as name-min-unit and the largest as
// name-max-unit, logs the three, and returns the median.
func reportSpread(b *testing.B, name, unit string, xs []float64) float64 {
	b.Helper()
	lo, mid, hi := spread(xs)
	b.ReportMetric(mid, name+"-"+unit)
	b.ReportMetric(lo, name+"-min-"+unit)
	b.ReportMetric(hi, name+"-max-"+unit)
	b.Logf("%s over %d runs: min %.3f, median %.3f, max %.3f %s", name, len(xs), lo, mid, hi, unit)
	return mid
}

// spread is the smallest, the median (the upper one of an even count) and
// the largest of xs.
func spread(xs []float64) (lo, mid, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[0], s[len(s)/2], s[len(s)-1]
}

// startupLaunches is how many launches of each program one iteration of
// BenchmarkGUIStartup times; rounds is how many fresh pairs of processes
// one iteration of the memory and idle CPU benchmarks measures.
const (
	startupLaunches = 5
	rounds          = 3
)

// BenchmarkGUIStartup: process start → the QR code readable in qrlogin's
// window (`qrlogin login --homeserver`, which signs in at once),
// against process start → hello's window drawn. startupLaunches
// alternating launches of each per iteration; the medians (and the
// spread) are reported.
func BenchmarkGUIStartup(b *testing.B) {
	appS, helloS := benchAgainstHello(b, startupLaunches, "s", func(l *launcher, homeserver string) (app, hello float64) {
		h := l.hello()
		h.proc.stop(b)
		a := l.app(homeserver)
		a.proc.stop(b)
		return a.startup.Seconds(), h.startup.Seconds()
	})
	b.ReportMetric(appS/helloS, "ratio")
}

// benchAgainstHello is what the GUI benchmarks share: the X tools, the dev
// homeserver and both binaries, then perIteration measurements of qrlogin
// against hello per iteration (measure launches both, measures and stops
// them), reported as app-unit and hello-unit with their spread
// (reportSpread) and the retries/op metric. It returns the two medians,
// for the caller's ratio or difference.
func benchAgainstHello(b *testing.B, perIteration int, unit string, measure func(l *launcher, homeserver string) (app, hello float64)) (appMid, helloMid float64) {
	b.Helper()
	requireGUITools(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := startDevServer(b)
	qrloginBinary(b)
	helloBinary(b)
	l := &launcher{b: b, ctx: ctx}
	b.ResetTimer()
	var app, hello []float64
	for range b.N {
		for range perIteration {
			a, h := measure(l, srv.URL())
			app, hello = append(app, a), append(hello, h)
		}
	}
	appMid = reportSpread(b, "app", unit, app)
	helloMid = reportSpread(b, "hello", unit, hello)
	l.report()
	return appMid, helloMid
}

// memorySettle is how long after the QR code shows resident memory is read:
// past qrlogin's release of its start-up garbage (ui/desktop/memory.go), as
// a person looking at the code would see it.
const memorySettle = 4 * time.Second

// BenchmarkGUIMemory: resident memory (VmRSS) of qrlogin showing the QR
// code, against hello's drawn window, both read memorySettle after
// qrlogin's QR code became readable; rounds fresh pairs per iteration.
func BenchmarkGUIMemory(b *testing.B) {
	appM, helloM := benchAgainstHello(b, rounds, "MiB", func(l *launcher, homeserver string) (app, hello float64) {
		h := l.hello()
		a := l.app(homeserver)
		time.Sleep(memorySettle)
		hello, app = rssMiB(b, h.proc), rssMiB(b, a.proc)
		h.proc.stop(b)
		a.proc.stop(b)
		return app, hello
	})
	b.ReportMetric(appM/helloM, "ratio")
}

// Idle CPU is sampled over idleWindow once per round, each round a fresh
// pair of processes (the kernel counts in 10 ms ticks, and the machine's
// other load varies: the median of three 10 s windows is steadier than one
// 30 s window's mean).
const idleWindow = 10 * time.Second

// BenchmarkGUIIdleCPU: CPU use (utime+stime, % of one core) in 10 s windows of
// qrlogin idle on the QR screen (its countdown ticking, the rendezvous
// polled), against hello idle. Both run at the same time, so they see the
// same machine load.
func BenchmarkGUIIdleCPU(b *testing.B) {
	appP, helloP := benchAgainstHello(b, rounds, "%cpu", func(l *launcher, homeserver string) (app, hello float64) {
		h := l.hello()
		a := l.app(homeserver)
		time.Sleep(2 * time.Second) // let start-up work (GC, font caches) finish
		h0, a0 := cpuTime(b, h.proc), cpuTime(b, a.proc)
		start := time.Now()
		time.Sleep(idleWindow)
		h1, a1 := cpuTime(b, h.proc), cpuTime(b, a.proc)
		wall := time.Since(start)
		hello, app = 100*float64(h1-h0)/float64(wall), 100*float64(a1-a0)/float64(wall)
		h.proc.stop(b)
		a.proc.stop(b)
		return app, hello
	})
	b.ReportMetric(appP-helloP, "diff-pp")
}

func rssMiB(b *testing.B, p *guiProcess) float64 {
	b.Helper()
	rss, err := processRSS(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return float64(rss) / (1 << 20)
}

func cpuTime(b *testing.B, p *guiProcess) time.Duration {
	b.Helper()
	d, err := processCPU(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// A start that fails once is retried and said in the log; one that keeps
// failing fails after startAttempts with every reason.
func TestRetryStart(t *testing.T) {
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	calls := 0
	run, retries, err := retryStart(logf, "hello", 3, func() (guiRun, error) {
		calls++
		if calls == 1 {
			return guiRun{}, fmt.Errorf("the program exited before its window %q appeared", helloTitle)
		}
		return guiRun{startup: time.Second}, nil
	})
	if err != nil || retries != 1 || calls != 2 || run.startup != time.Second {
		t.Fatalf("one failure: run %v, retries %d, calls %d, err %v", run, retries, calls, err)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "hello: start 1 of 3 failed, retrying") || !strings.Contains(logged[0], "exited before its window") {
		t.Errorf("logged %q", logged)
	}

	calls, logged = 0, nil
	_, retries, err = retryStart(logf, "qrlogin", 3, func() (guiRun, error) {
		calls++
		return guiRun{}, fmt.Errorf("reason %d", calls)
	})
	if err == nil || retries != 3 || calls != 3 || len(logged) != 2 {
		t.Fatalf("always failing: retries %d, calls %d, logged %q, err %v", retries, calls, logged, err)
	}
	for _, want := range []string{"qrlogin failed to start 3 times in a row", "start 1 of 3: reason 1", "start 3 of 3: reason 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		xs          []float64
		lo, mid, hi float64
	}{
		{[]float64{2}, 2, 2, 2},
		{[]float64{3, 1, 2}, 1, 2, 3},
		{[]float64{4, 1, 3, 2}, 1, 3, 4},
		{[]float64{1.5, 1.2, 1.9, 1.3, 1.4}, 1.2, 1.4, 1.9},
	} {
		if lo, mid, hi := spread(c.xs); lo != c.lo || mid != c.mid || hi != c.hi {
			t.Errorf("spread(%v) = %v, %v, %v; want %v, %v, %v", c.xs, lo, mid, hi, c.lo, c.mid, c.hi)
		}
	}
}
