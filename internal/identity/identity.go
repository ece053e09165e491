// Package identity holds the names that identify qrlogin everywhere: the
// desktop app ID (which also names the keyring service and the config
// folder), the display name, and what the app tells an OAuth server about
// itself. They are defined once, here; never change AppID, because stored
// accounts and settings are found through it.
package identity

const (
	// AppID is the reverse-DNS application ID (FyneApp.toml, .desktop file,
	// metainfo, Flatpak, keyring service name, config folder).
	AppID = "io.github.qrlogin.QRLogin"
	// DisplayName is the human name of the app.
	DisplayName = "QR Login"
	// BinaryName is the name of the executable and of the packages.
	BinaryName = "qrlogin"
	// OAuthClientName is sent as client_name on dynamic client registration.
	OAuthClientName = "qrlogin"
	// OAuthClientURI is sent as client_uri on dynamic client registration.
	OAuthClientURI = "https://github.com/qrlogin/qrlogin"
	// License is the SPDX identifier of the project's licence.
	License = "Apache-2.0"
)

// Version is the app version; release builds may override it with
// -ldflags "-X github.com/qrlogin/qrlogin/internal/identity.Version=...".
var Version = "0.1.0"
