package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/qrlogin/qrlogin/app/accounts"
	"github.com/qrlogin/qrlogin/app/explain"
	"github.com/qrlogin/qrlogin/app/signin"
)

func init() {
	Register(Command{Name: "accounts", Summary: "list the accounts signed in on this computer (--json for programs)", Run: runAccounts})
	Register(Command{Name: "token", Summary: "print a valid access token for scripts, refreshed if needed [--account USER_ID]", Run: runToken})
	Register(Command{Name: "logout", Summary: "sign an account out: revoke its tokens and remove it [--account USER_ID] [--local: remove it from this computer only]", Run: runLogout})
}

// accountStore is the part of the store the account commands use.
type accountStore interface {
	List() ([]accounts.Meta, error)
	signin.AccountRemover
	signin.GrantStore
}

// accountStoreOpener opens the store; tests replace it.
var accountStoreOpener = func() (accountStore, error) { return accounts.Open() }

// accountJSON is one entry of `qrlogin accounts --json` (a stable contract:
// fields may be added, never renamed).
type accountJSON struct {
	UserID     string `json:"user_id"`
	DeviceID   string `json:"device_id"`
	Homeserver string `json:"homeserver"`
	Verified   bool   `json:"verified"`
	Backup     bool   `json:"backup"`
}

func runAccounts(ctx context.Context, args []string, stdio Stdio, _ FrontEnds) int {
	fs := flag.NewFlagSet("accounts", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return ExitUsage
	}
	store, err := accountStoreOpener()
	if err != nil {
		return commandFailure(stdio, err)
	}
	list, err := store.List()
	if err != nil {
		return commandFailure(stdio, err)
	}
	if *asJSON {
		out := make([]accountJSON, 0, len(list))
		for _, m := range list {
			out = append(out, accountJSON{m.UserID, m.DeviceID, m.Homeserver, m.Verified, m.Backup})
		}
		b, _ := json.Marshal(out)
		fmt.Fprintf(stdio.Out, "%s\n", b)
		return ExitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(stdio.Out, "No accounts are signed in on this computer. Run `qrlogin login` to add one.")
		return ExitOK
	}
	tw := tabwriter.NewWriter(stdio.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tDEVICE\tHOMESERVER\tVERIFIED")
	for _, m := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.UserID, m.DeviceID, m.Homeserver, yesNo(m.Verified))
	}
	_ = tw.Flush()
	return ExitOK
}

// errNoAccount: no account is signed in on this computer.
var errNoAccount = fmt.Errorf("%w: no account is signed in on this computer", accounts.ErrNotFound)

// severalAccountsError: several accounts are signed in and none was named.
type severalAccountsError struct{ users []string }

func (e *severalAccountsError) Error() string {
	return "several accounts are signed in: " + strings.Join(e.users, ", ")
}

// chooseAccount applies --account (want), or the only account there is.
// Its errors: the store's, accounts.ErrNotFound for want, errNoAccount,
// *severalAccountsError.
func chooseAccount(store accountStore, want string) (string, error) {
	list, err := store.List()
	if err != nil {
		return "", err
	}
	if want != "" {
		for _, m := range list {
			if m.UserID == want {
				return want, nil
			}
		}
		return "", fmt.Errorf("%w: %s", accounts.ErrNotFound, want)
	}
	switch len(list) {
	case 0:
		return "", errNoAccount
	case 1:
		return list[0].UserID, nil
	}
	several := &severalAccountsError{}
	for _, m := range list {
		several.users = append(several.users, m.UserID)
	}
	return "", several
}

// pickAccount applies --account, or the only account there is, and says
// on stderr why none could be chosen.
func pickAccount(name string, store accountStore, stdio Stdio, want string) (string, int) {
	user, err := chooseAccount(store, want)
	var several *severalAccountsError
	switch {
	case err == nil:
		return user, ExitOK
	case errors.Is(err, errNoAccount):
		fmt.Fprintf(stdio.Err, "%s: no account is signed in on this computer; run `qrlogin login` first\n", name)
		return "", ExitFail
	case errors.As(err, &several):
		fmt.Fprintf(stdio.Err, "%s: several accounts are signed in; choose one with --account:\n", name)
		for _, u := range several.users {
			fmt.Fprintf(stdio.Err, "  %s\n", u)
		}
		return "", ExitUsage
	case errors.Is(err, accounts.ErrNotFound):
		fmt.Fprintf(stdio.Err, "%s: no account %s is signed in on this computer\n", name, want)
		return "", ExitFail
	}
	return "", commandFailure(stdio, err)
}

// accountChoiceExit is the exit status when chooseAccount fails with err:
// a usage error when an account had to be named.
func accountChoiceExit(err error) int {
	if errors.As(err, new(*severalAccountsError)) {
		return ExitUsage
	}
	return ExitFail
}

// accountCommand parses the --account flag (and the flags more adds) of a
// command that acts on one account, opens the store and picks the account.
func accountCommand(name string, args []string, stdio Stdio, more ...func(*flag.FlagSet)) (accountStore, string, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	account := fs.String("account", "", "the account's user ID (needed when several are signed in)")
	for _, add := range more {
		add(fs)
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return nil, "", ExitUsage
	}
	return openAccount(name, stdio, *account)
}

// openAccount opens the store and picks the account: want, or the only
// one there is.
func openAccount(name string, stdio Stdio, want string) (accountStore, string, int) {
	store, err := accountStoreOpener()
	if err != nil {
		return nil, "", commandFailure(stdio, err)
	}
	user, code := pickAccount(name, store, stdio, want)
	return store, user, code
}

func runToken(ctx context.Context, args []string, stdio Stdio, _ FrontEnds) int {
	store, user, code := accountCommand("token", args, stdio)
	if code != ExitOK {
		return code
	}
	tok, err := store.AccessToken(ctx, user, signin.Refresh)
	if err != nil {
		return commandFailure(stdio, err)
	}
	// The one place a secret is printed: this command exists to print it.
	fmt.Fprintln(stdio.Out, tok.Reveal())
	return ExitOK
}

func runLogout(ctx context.Context, args []string, stdio Stdio, _ FrontEnds) int {
	var local bool
	store, user, code := accountCommand("logout", args, stdio, func(fs *flag.FlagSet) {
		fs.BoolVar(&local, "local", false, "remove the account from this computer only, without signing it out at the server "+
			"(for when the server cannot be reached; its device stays on the account)")
	})
	if code != ExitOK {
		return code
	}
	if local {
		return logoutLocally(store, user, stdio)
	}
	err := signin.Logout(ctx, store, user)
	if err == nil {
		fmt.Fprintf(stdio.Out, "%s is signed out of this computer.\n", user)
		return ExitOK
	}
	code = commandFailure(stdio, err)
	// When the server cannot sign the account out (or what is stored for
	// it is damaged), removing it from this computer only is the way out.
	if errors.As(err, new(*signin.RevokeError)) || errors.As(err, new(*accounts.CorruptError)) {
		fmt.Fprintf(stdio.Err, "To remove the account from this computer without signing it out at the server, run:\n  qrlogin logout --local --account %s\n", user)
	}
	return code
}

// logoutLocally is `logout --local`: the flag is the confirmation.
func logoutLocally(store accountStore, user string, stdio Stdio) int {
	device := ""
	if list, err := store.List(); err == nil {
		for _, m := range list {
			if m.UserID == user {
				device = m.DeviceID
			}
		}
	}
	if err := signin.RemoveLocally(store, user); err != nil {
		return commandFailure(stdio, err)
	}
	fmt.Fprintf(stdio.Out, "%s is removed from this computer. It was not signed out at the server: its device %s stays on the account "+
		"until you remove it in another Matrix app.\n", user, device)
	return ExitOK
}

func commandFailure(stdio Stdio, err error) int {
	x := explain.Error(err)
	fmt.Fprintf(stdio.Err, "%s\n(%s)\n", x.Sentence(), x.Detail)
	return ExitFail
}
