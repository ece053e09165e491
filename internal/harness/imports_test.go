package harness

import (
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
	checked, sawGUI := 0, false
	for line := range strings.Lines(string(out)) {
		pkg, deps, _ := strings.Cut(strings.TrimSpace(line), "\t")
		depList := strings.Fields(deps)
		checked++
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
	if checked < 5 {
		t.Fatalf("go list reported only %d packages:\n%s", checked, out)
	}
}
