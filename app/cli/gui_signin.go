package cli

// guiSignIn opens the desktop window already signing in to a homeserver
// (ui/desktop.RunSignIn): `qrlogin login --homeserver example.org` without
// --headless. Injected by main like guiLauncher.
var guiSignIn func(homeserver string) int

// SetGUISignIn registers the function that opens the window signing in to
// a given homeserver; main calls it before Main.
func SetGUISignIn(launch func(homeserver string) int) { guiSignIn = launch }
