package harness

import (
	"bufio"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// The app ID, name and version are written in several files for several
// tools; this test keeps them equal to internal/identity (one ID
// everywhere: docs/design-notes.md "App ID").
func TestMetadataAgrees(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("FyneApp.toml", func(t *testing.T) {
		var fyneApp struct {
			Details struct {
				Icon, Name, ID, Version string
			}
			Migrations map[string]bool
		}
		if _, err := toml.DecodeFile(filepath.Join(root, "FyneApp.toml"), &fyneApp); err != nil {
			t.Fatal(err)
		}
		d := fyneApp.Details
		if d.ID != identity.AppID || d.Name != identity.DisplayName || d.Version != identity.Version {
			t.Errorf("FyneApp.toml has %q %q %q, identity has %q %q %q",
				d.ID, d.Name, d.Version, identity.AppID, identity.DisplayName, identity.Version)
		}
		if _, err := os.Stat(filepath.Join(root, d.Icon)); err != nil {
			t.Errorf("FyneApp.toml icon: %v", err)
		}
		if !fyneApp.Migrations["fyneDo"] {
			t.Error("FyneApp.toml lacks [Migrations] fyneDo = true")
		}
	})

	t.Run("desktop entry", func(t *testing.T) {
		entry := readDesktopEntry(t, filepath.Join(root, "assets", "linux", identity.AppID+".desktop"))
		want := map[string]string{"Name": identity.DisplayName, "Exec": identity.BinaryName, "Icon": identity.AppID, "StartupWMClass": identity.DisplayName}
		for key, value := range want {
			if entry[key] != value {
				t.Errorf("%s=%q, want %q", key, entry[key], value)
			}
		}
	})

	t.Run("debian changelog", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "packaging", "debian", "changelog"))
		if err != nil {
			t.Fatal(err)
		}
		want := identity.BinaryName + " (" + identity.Version + "-1) "
		if !strings.HasPrefix(string(data), want) {
			t.Errorf("packaging/debian/changelog should start with %q", want)
		}
	})

	t.Run("metainfo", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "assets", "linux", identity.AppID+".metainfo.xml"))
		if err != nil {
			t.Fatal(err)
		}
		var component struct {
			ID         string `xml:"id"`
			Name       string `xml:"name"`
			License    string `xml:"project_license"`
			Launchable string `xml:"launchable"`
			Binary     string `xml:"provides>binary"`
			Releases   []struct {
				Version string `xml:"version,attr"`
			} `xml:"releases>release"`
		}
		if err := xml.Unmarshal(data, &component); err != nil {
			t.Fatal(err)
		}
		if component.ID != identity.AppID || component.Name != identity.DisplayName ||
			component.License != identity.License || component.Launchable != identity.AppID+".desktop" ||
			component.Binary != identity.BinaryName {
			t.Errorf("metainfo disagrees with identity: %+v", component)
		}
		if len(component.Releases) == 0 || component.Releases[0].Version != identity.Version {
			t.Errorf("newest metainfo release %+v, want version %s first", component.Releases, identity.Version)
		}
	})
}

// readDesktopEntry returns the keys of the [Desktop Entry] group.
func readDesktopEntry(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]string{}
	group := ""
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case strings.HasPrefix(line, "["):
			group = line
		case group == "[Desktop Entry]" && strings.Contains(line, "="):
			key, value, _ := strings.Cut(line, "=")
			keys[key] = value
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}
