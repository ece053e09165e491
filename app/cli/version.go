package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/qrlogin/qrlogin/internal/identity"
)

// writeVersion prints the one line that packaging checks rely on:
// "qrlogin <version>" (make package-check runs `qrlogin --version`).
func writeVersion(w io.Writer) {
	fmt.Fprintf(w, "%s %s\n", identity.BinaryName, identity.Version)
}

func init() {
	Register(Command{
		Name:    "version",
		Summary: "print the version (same as --version)",
		Run: func(_ context.Context, args []string, stdio Stdio, _ FrontEnds) int {
			if len(args) != 0 {
				fmt.Fprintf(stdio.Err, "usage: %s version\n", identity.BinaryName)
				return ExitUsage
			}
			writeVersion(stdio.Out)
			return ExitOK
		},
	})
}
