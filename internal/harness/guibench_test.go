package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// launchHello starts the yardstick and waits until its window is drawn.
func launchHello(b *testing.B, ctx context.Context) guiRun {
	b.Helper()
	p := startGUI(b, helloBinary(b), []string{"XDG_CONFIG_HOME=" + b.TempDir()})
	win, err := findWindowFast(ctx, helloTitle, p)
	if err != nil {
		b.Fatal(err)
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
		b.Fatalf("hello never drew: %v\n%s", err, p.logs.String())
	}
	startup := drawn.Sub(p.started)
	b.Logf("hello: window drawn after %v", startup.Round(time.Millisecond))
	return guiRun{proc: p, startup: startup}
}

// launchApp starts `qrlogin login --homeserver URL`, which opens the
// window already signing in (no key press to wait for), and waits until
// the QR code in it is readable.
func launchApp(b *testing.B, ctx context.Context, homeserver string) guiRun {
	b.Helper()
	p := startGUI(b, qrloginBinary(b), settingsEnv(b, homeserver, ""), "login", "--homeserver", homeserver)
	win, err := findWindowFast(ctx, identity.DisplayName, p)
	if err != nil {
		b.Fatal(err)
	}
	mapped := time.Since(p.started)
	qrCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, _, seen, err := waitForQR(qrCtx, win, 0)
	if err != nil {
		b.Fatalf("%v\n%s", err, p.logs.String())
	}
	startup := seen.Sub(p.started)
	b.Logf("qrlogin: window after %v, QR code readable after %v", mapped.Round(time.Millisecond), startup.Round(time.Millisecond))
	if startup > 5*time.Second {
		b.Logf("qrlogin was slow to show a readable code; its output:\n%s", p.logs.String())
	}
	return guiRun{proc: p, startup: startup}
}

// findWindowFast polls for the mapped window every 10 ms, for start-up
// timing.
func findWindowFast(ctx context.Context, title string, p *guiProcess) (string, error) {
	return findVisibleWindow(ctx, title, p.exited, 10*time.Millisecond)
}

// BenchmarkGUIStartup: process start → the QR code readable in qrlogin's
// window (`qrlogin login --homeserver`, which signs in at once),
// against process start → hello's window drawn. Five alternating launches
// of each per iteration; the medians are reported.
func BenchmarkGUIStartup(b *testing.B) {
	requireGUITools(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := startDevServer(b, ctx)
	qrloginBinary(b)
	helloBinary(b)
	b.ResetTimer()
	var app, hello []time.Duration
	for range b.N {
		for range 5 {
			h := launchHello(b, ctx)
			hello = append(hello, h.startup)
			h.proc.stop(b)
			a := launchApp(b, ctx, srv.URL())
			app = append(app, a.startup)
			a.proc.stop(b)
		}
	}
	appS, helloS := median(app).Seconds(), median(hello).Seconds()
	b.ReportMetric(appS, "app-s")
	b.ReportMetric(helloS, "hello-s")
	b.ReportMetric(appS/helloS, "ratio")
}

// memorySettle is how long after the QR code shows resident memory is read:
// past qrlogin's release of its start-up garbage (ui/desktop/memory.go), as
// a person looking at the code would see it.
const memorySettle = 4 * time.Second

// BenchmarkGUIMemory: resident memory (VmRSS) of qrlogin showing the QR
// code, against hello's drawn window, both read memorySettle after
// qrlogin's QR code became readable.
func BenchmarkGUIMemory(b *testing.B) {
	requireGUITools(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := startDevServer(b, ctx)
	qrloginBinary(b)
	helloBinary(b)
	b.ResetTimer()
	var app, hello []float64
	for range b.N {
		h := launchHello(b, ctx)
		a := launchApp(b, ctx, srv.URL())
		time.Sleep(memorySettle)
		hello = append(hello, rssMiB(b, h.proc))
		app = append(app, rssMiB(b, a.proc))
		h.proc.stop(b)
		a.proc.stop(b)
	}
	appM, helloM := medianFloat(app), medianFloat(hello)
	b.ReportMetric(appM, "app-MiB")
	b.ReportMetric(helloM, "hello-MiB")
	b.ReportMetric(appM/helloM, "ratio")
}

// Idle CPU is sampled idleSamples times over idleWindow (the kernel counts
// in 10 ms ticks, and the machine's other load varies: the median of three
// 10 s windows is steadier than one 30 s window's mean).
const (
	idleWindow  = 10 * time.Second
	idleSamples = 3
)

// BenchmarkGUIIdleCPU: CPU use (utime+stime, % of one core) in 10 s windows of
// qrlogin idle on the QR screen (its countdown ticking, the rendezvous
// polled), against hello idle. Both run at the same time, so they see the
// same machine load.
func BenchmarkGUIIdleCPU(b *testing.B) {
	requireGUITools(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := startDevServer(b, ctx)
	qrloginBinary(b)
	helloBinary(b)
	b.ResetTimer()
	var app, hello []float64
	for range b.N {
		h := launchHello(b, ctx)
		a := launchApp(b, ctx, srv.URL())
		time.Sleep(2 * time.Second) // let start-up work (GC, font caches) finish
		for range idleSamples {
			h0, a0 := cpuTime(b, h.proc), cpuTime(b, a.proc)
			start := time.Now()
			time.Sleep(idleWindow)
			h1, a1 := cpuTime(b, h.proc), cpuTime(b, a.proc)
			wall := time.Since(start)
			hello = append(hello, 100*float64(h1-h0)/float64(wall))
			app = append(app, 100*float64(a1-a0)/float64(wall))
		}
		h.proc.stop(b)
		a.proc.stop(b)
	}
	appP, helloP := medianFloat(app), medianFloat(hello)
	b.ReportMetric(appP, "app-%cpu")
	b.ReportMetric(helloP, "hello-%cpu")
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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianFloat(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}
