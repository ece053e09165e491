package cli

import (
	"context"
	"flag"
	"fmt"
)

func init() {
	Register(Command{
		Name:    "demo",
		Summary: "try the sign-in with no phone and no network: a pretend server and a pretend phone window",
		Run:     runDemo,
	})
}

func runDemo(_ context.Context, args []string, stdio Stdio, fe FrontEnds) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() {
		fmt.Fprintln(stdio.Err, "Usage: qrlogin demo")
		fmt.Fprintln(stdio.Err, "\nOpens the sign-in window pointed at a development homeserver running inside")
		fmt.Fprintln(stdio.Err, "qrlogin on 127.0.0.1, and a second window that plays the phone: press \"Scan\",")
		fmt.Fprintln(stdio.Err, "type the code it shows, then Approve or Deny. The demo account is kept in")
		fmt.Fprintln(stdio.Err, "memory only; your real accounts and settings are not touched.")
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdio.Err, "demo: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if fe.Demo == nil {
		fmt.Fprintln(stdio.Err, "demo: this build has no desktop window")
		return ExitUsage
	}
	return fe.Demo()
}
