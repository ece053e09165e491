package harness

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Only main and ui/desktop (and the benchmarks' hello window) may import fyne.io/fyne/v2/app: it drags in GLFW
// and cgo, which costs minutes of cold compile and needs a display to run.
// The command-line package must not import Fyne at all, so headless commands
// build fast and run without X.
func TestOnlyTheWindowPackagesImportFyneApp(t *testing.T) {
	const (
		module  = "github.com/qrlogin/qrlogin"
		fyneApp = "fyne.io/fyne/v2/app"
	)
	// internal/benchapp/hello is the GUI benchmarks' yardstick window.
	allowed := map[string]bool{module: true, module + "/ui/desktop": true, module + "/internal/benchapp/hello": true}

	deps := moduleDeps(t)
	sawGUI := false
	for pkg, depList := range deps {
		importsApp := slices.Contains(depList, fyneApp)
		sawGUI = sawGUI || (pkg == module && importsApp)
		if !allowed[pkg] && importsApp {
			t.Errorf("%s imports %s (directly or not); only %v may", pkg, fyneApp, slices.Sorted(maps.Keys(allowed)))
		}
		if pkg == module+"/app/cli" {
			for _, dep := range depList {
				if strings.HasPrefix(dep, "fyne.io/") {
					t.Errorf("app/cli depends on %s; it must not import Fyne", dep)
				}
			}
		}
	}
	if !sawGUI {
		t.Errorf("the main package does not depend on %s: the check cannot see dependencies", fyneApp)
	}
}

// A layering rule: no package in From may depend, directly or not, on a
// package in any of Not. Paths are relative to the module unless their first
// element has a dot (fyne.io/...); "a/b/..." is a package and everything
// under it, "a/b" that package alone, "..." the whole module.
// docs/ARCHITECTURE.md ("The rules") says why each holds.
type layerRule struct {
	From string
	Not  []string
	Why  string
}

var layerRules = []layerRule{
	{From: "protocol/vocab", Not: []string{"..."},
		Why: "vocab is the leaf: every layer names a generation or a pace without pulling in a protocol package"},
	{From: "internal/identity", Not: []string{"..."},
		Why: "identity is a leaf: every packaging file and layer reads the app ID from it"},
	{From: "assets", Not: []string{"..."},
		Why: "assets is a leaf: embedded files only"},
	{From: "protocol/securechannel/...", Not: []string{"protocol/rendezvous/..."},
		Why: "the channel takes its own small Transport, not a rendezvous session; login hands one to the other"},
	{From: "protocol/qrcode/...", Not: []string{"protocol/securechannel/..."},
		Why: "QR payloads are bytes and keys; the channel is a peer, not a dependency"},
	{From: "protocol/...", Not: []string{"app/...", "ui/...", "internal/devserver/...", "internal/phone/..."},
		Why: "no arrow upwards, and the test doubles serve tests and the demo, never protocol logic"},
	{From: "app/...", Not: []string{"ui/..."},
		Why: "no arrow upwards: everything below ui builds and tests without Fyne"},
	{From: "protocol/...", Not: []string{"fyne.io/..."},
		Why: "no Fyne below ui: the protocol builds and tests without cgo or a display"},
	{From: "app/...", Not: []string{"fyne.io/..."},
		Why: "no Fyne below ui: the command line and the controllers build and test without cgo or a display"},
	{From: "protocol/rendezvous", Not: []string{"protocol/rendezvous/server/..."},
		Why: "the clients do not link server code"},
}

// matchPattern reports whether pkg (a full import path) is in pattern.
func matchPattern(module, pattern, pkg string) bool {
	if pattern == "..." {
		return pkg == module || strings.HasPrefix(pkg, module+"/")
	}
	p := patternPath(module, pattern)
	if _, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	return pkg == p
}

// patternPath is pattern's import path without a trailing "/...".
func patternPath(module, pattern string) string {
	p := strings.TrimSuffix(pattern, "/...")
	if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
		return p
	}
	return module + "/" + p
}

// layerViolations checks deps (package → its non-test dependencies) against
// rules and returns one line per broken arrow, and the rules whose From
// matched no package (a rule that checks nothing cannot fail).
func layerViolations(module string, deps map[string][]string, rules []layerRule) (broken, unmatched []string) {
	for _, r := range rules {
		matched := false
		for _, pkg := range slices.Sorted(maps.Keys(deps)) {
			if !matchPattern(module, r.From, pkg) {
				continue
			}
			matched = true
			for _, not := range r.Not {
				// One line per package and pattern: the first offending
				// dependency names the arrow; Fyne alone has dozens.
				i := slices.IndexFunc(deps[pkg], func(dep string) bool { return dep != pkg && matchPattern(module, not, dep) })
				if i < 0 {
					continue
				}
				what := not
				if not == "..." {
					what = "any package of the module"
				}
				broken = append(broken, fmt.Sprintf("%s depends on %s, but %s must not depend on %s: %s",
					strings.TrimPrefix(pkg, module+"/"), strings.TrimPrefix(deps[pkg][i], module+"/"), r.From, what, r.Why))
			}
		}
		if !matched {
			unmatched = append(unmatched, r.From)
		}
	}
	return broken, unmatched
}

// TestImportLayering enforces docs/ARCHITECTURE.md's arrows on the real
// module with `go list -deps` semantics (.Deps: every package a package
// needs to build, without its tests), so a change that breaks the layering
// fails here, whatever file it touches.
func TestImportLayering(t *testing.T) {
	const module = "github.com/qrlogin/qrlogin"
	deps := moduleDeps(t)
	broken, unmatched := layerViolations(module, deps, layerRules)
	for _, b := range broken {
		t.Error(b)
	}
	for _, u := range unmatched {
		t.Errorf("layering rule for %q matches no package: a package moved; update layerRules", u)
	}
}

// TestImportLayeringRulesCanFail feeds each rule a made-up dependency that
// breaks it (and one that does not), so a rule that could never fire, for
// example through a mistyped pattern, is caught.
func TestImportLayeringRulesCanFail(t *testing.T) {
	const module = "example.org/m"
	for _, r := range layerRules {
		from := patternPath(module, r.From)
		for _, not := range r.Not {
			target := patternPath(module, not) + "/sub"
			if not == "..." {
				target = module + "/anything"
			}
			bad := map[string][]string{from: {"fmt", target}}
			if broken, unmatched := layerViolations(module, bad, []layerRule{r}); len(broken) != 1 || len(unmatched) != 0 {
				t.Errorf("rule %s !→ %s: %s → %s gave %q, unmatched %q; want one violation", r.From, not, from, target, broken, unmatched)
			}
		}
		ok := map[string][]string{from: {"fmt", "strings"}}
		if broken, _ := layerViolations(module, ok, []layerRule{r}); len(broken) != 0 {
			t.Errorf("rule %s: standard-library dependencies flagged: %q", r.From, broken)
		}
	}
}

// moduleDeps is `go list -deps` for every package of the module: each
// package's import path and its non-test dependencies, direct or not.
func moduleDeps(t *testing.T) map[string][]string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// -e: a package another engineer is still writing may not compile; its
	// import list is still known.
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}\t{{join .Deps \" \"}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		pkg, list, _ := strings.Cut(strings.TrimSpace(line), "\t")
		deps[pkg] = strings.Fields(list)
	}
	if len(deps) < 5 {
		t.Fatalf("go list reported only %d packages:\n%s", len(deps), out)
	}
	return deps
}
