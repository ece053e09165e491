package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// Exit codes shared by every command (Command.Run documents the same).
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Main runs qrlogin with the arguments after the program name and returns the
// process exit code. With no arguments it opens fe.Window; "--help" and
// "--version" are answered here; anything else names a registered command.
// SIGINT and SIGTERM cancel the context that commands receive.
func Main(args []string, stdio Stdio, fe FrontEnds) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Dispatch(ctx, args, stdio, fe)
}

// Dispatch is Main without the signal handling, for tests and embedders.
func Dispatch(ctx context.Context, args []string, stdio Stdio, fe FrontEnds) int {
	if len(args) == 0 || isLauncherArgument(args) {
		if fe.Window == nil {
			fmt.Fprintf(stdio.Err, "%s: this build has no desktop window; name a command\n\n", identity.BinaryName)
			WriteUsage(stdio.Err)
			return ExitUsage
		}
		return fe.Window()
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		WriteUsage(stdio.Out)
		return ExitOK
	case "-version", "--version":
		writeVersion(stdio.Out)
		return ExitOK
	}
	cmd, ok := Lookup(args[0])
	if !ok {
		if strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stdio.Err, "%s: unknown option %q\n\n", identity.BinaryName, args[0])
		} else {
			fmt.Fprintf(stdio.Err, "%s: unknown command %q\n\n", identity.BinaryName, args[0])
		}
		WriteUsage(stdio.Err)
		return ExitUsage
	}
	return cmd.Run(ctx, args[1:], stdio, fe)
}

// isLauncherArgument reports arguments that desktop launchers add on their own
// and that mean "just open the app": macOS Finder passed -psn_<serial> to
// app bundles up to 10.12.
func isLauncherArgument(args []string) bool {
	return len(args) == 1 && strings.HasPrefix(args[0], "-psn_")
}

// WriteUsage prints the command summary that --help shows.
func WriteUsage(w io.Writer) {
	fmt.Fprintf(w, "%s %s: sign this computer in to a Matrix account by QR code.\n\n", identity.DisplayName, identity.Version)
	fmt.Fprintf(w, "Usage:\n  %s                 open the desktop window\n", identity.BinaryName)
	fmt.Fprintf(w, "  %s <command> [arguments]\n", identity.BinaryName)
	fmt.Fprintf(w, "  %s --help | --version\n", identity.BinaryName)
	cmds := All()
	if len(cmds) == 0 {
		return
	}
	fmt.Fprint(w, "\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's own options.\n", identity.BinaryName)
}
