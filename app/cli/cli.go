// Package cli is qrlogin's command line: a table of subcommands, each in a
// file of its own, sharing one way to report usage errors (exit 2).
package cli

import (
	"context"
	"io"
	"sort"
)

// Stdio is where a command reads and writes; tests pass buffers.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// FrontEnds are the windows this build can open. Package main passes them
// to Main, so this package never imports Fyne: headless commands (servers,
// tests) then build without cgo and run without X. A nil field means "this
// build has no such window".
type FrontEnds struct {
	// Window opens the desktop window (no arguments, or `login` without
	// --headless) and returns the exit code when it closes.
	Window func() int
	// SignIn opens the window already signing in to homeserver:
	// `qrlogin login --homeserver example.org` without --headless.
	SignIn func(homeserver string) int
	// Demo opens the demo's windows (`qrlogin demo`).
	Demo func() int
	// Grant opens the window signing another device in with the stored
	// account userID: `qrlogin grant` without --headless.
	Grant func(userID string) int
}

// Command is one subcommand, e.g. "rendezvous-server".
type Command struct {
	Name    string // as typed: "login", "rendezvous-server"
	Summary string // one line for --help
	// Run executes the command with the arguments after its name and returns
	// the process exit code: 0 success, 1 failure, 2 usage error. fe is what
	// main passed to Main; only the commands that open a window use it.
	Run func(ctx context.Context, args []string, stdio Stdio, fe FrontEnds) int
}

var commands = map[string]Command{}

// Register adds a subcommand; each command's file calls it from init.
func Register(c Command) {
	if _, dup := commands[c.Name]; dup {
		panic("cli: duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

// Lookup finds a registered subcommand by name.
func Lookup(name string) (Command, bool) {
	c, ok := commands[name]
	return c, ok
}

// All returns the registered subcommands sorted by name.
func All() []Command {
	out := make([]Command, 0, len(commands))
	for _, c := range commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
