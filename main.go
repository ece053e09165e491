// Command qrlogin signs this computer in to a Matrix account by QR code.
// With no arguments it opens the desktop window; `qrlogin --help` lists the
// commands. Everything but the window lives in app/cli and below.
package main

import (
	"os"

	"github.com/qrlogin/qrlogin/app/cli"
	// Before Fyne's lang package reads the locale while it is initialised:
	// C.UTF-8 and its kin become LANGUAGE=en, so no command prints Fyne's
	// locale parse error (the order argument is in the package's doc).
	_ "github.com/qrlogin/qrlogin/internal/localeenv"
	"github.com/qrlogin/qrlogin/ui/desktop"
)

func main() {
	windows := cli.FrontEnds{Window: desktop.Run, SignIn: desktop.RunSignIn, Demo: desktop.RunDemo, Grant: desktop.RunGrant}
	os.Exit(cli.Main(os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, windows))
}
