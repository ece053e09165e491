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

// Command is one subcommand, e.g. "rendezvous-server".
type Command struct {
	Name    string // as typed: "login", "rendezvous-server"
	Summary string // one line for --help
	// Run executes the command with the arguments after its name and returns
	// the process exit code: 0 success, 1 failure, 2 usage error.
	Run func(ctx context.Context, args []string, stdio Stdio) int
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
