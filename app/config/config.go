// Package config keeps qrlogin's settings (nothing secret) as JSON in the
// app's config folder, <user config dir>/io.github.qrlogin.QRLogin/.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// Protocol preferences for the QR code this desktop generates.
const (
	ProtocolAuto    = "auto"
	ProtocolMSC4388 = "msc4388"
	Protocol2024    = "msc4108-2024"
)

// Poll speeds for the rendezvous.
const (
	PollNormal = "normal" // about 250 ms while a reply is expected, 1 s while a person acts
	PollGentle = "gentle" // half as often, for busy servers
)

// Settings are the user's choices. The zero value is usable: Defaults fills
// in the blanks.
type Settings struct {
	LastHomeserver   string `json:"last_homeserver,omitempty"`
	Protocol         string `json:"protocol,omitempty"`          // auto | msc4388 | msc4108-2024
	MSC4388Variant   string `json:"msc4388_variant,omitempty"`   // reference | msc-text
	RendezvousServer string `json:"rendezvous_server,omitempty"` // explicit override, empty = the homeserver
	PollSpeed        string `json:"poll_speed,omitempty"`
	UnstableScopes   bool   `json:"unstable_scopes,omitempty"` // msc2967 scope names instead of the stable ones
}

// Defaults returns s with empty fields set to their defaults.
func (s Settings) Defaults() Settings {
	if s.Protocol == "" {
		s.Protocol = ProtocolAuto
	}
	if s.MSC4388Variant == "" {
		s.MSC4388Variant = "reference"
	}
	if s.PollSpeed == "" {
		s.PollSpeed = PollNormal
	}
	return s
}

// Validate reports a setting with an unknown value.
func (s Settings) Validate() error {
	s = s.Defaults()
	switch s.Protocol {
	case ProtocolAuto, ProtocolMSC4388, Protocol2024:
	default:
		return fmt.Errorf("unknown protocol %q (use auto, msc4388 or msc4108-2024)", s.Protocol)
	}
	switch s.MSC4388Variant {
	case "reference", "msc-text":
	default:
		return fmt.Errorf("unknown MSC4388 variant %q (use reference or msc-text)", s.MSC4388Variant)
	}
	switch s.PollSpeed {
	case PollNormal, PollGentle:
	default:
		return fmt.Errorf("unknown poll speed %q (use normal or gentle)", s.PollSpeed)
	}
	return nil
}

// Dir is the app's config folder.
func Dir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, identity.AppID), nil
}

const fileName = "settings.json"

// Load reads the settings; a missing file gives the defaults.
func Load() (Settings, error) {
	dir, err := Dir()
	if err != nil {
		return Settings{}.Defaults(), err
	}
	return LoadFrom(filepath.Join(dir, fileName))
}

// LoadFrom reads settings from a file.
func LoadFrom(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}.Defaults(), nil
	}
	if err != nil {
		return Settings{}.Defaults(), err
	}
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}.Defaults(), fmt.Errorf("the settings file %s is damaged: %w", path, err)
	}
	return s.Defaults(), nil
}

// Save writes the settings atomically (temp file, then rename), so a crash
// never leaves half a file.
func Save(s Settings) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	return SaveTo(filepath.Join(dir, fileName), s)
}

// SaveTo writes settings to a file atomically.
func SaveTo(path string, s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".settings-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
