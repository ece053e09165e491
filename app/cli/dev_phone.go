package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qrlogin/qrlogin/internal/devserver"
	"github.com/qrlogin/qrlogin/internal/phone"
)

// devServerPhoneHelp is appended to `qrlogin dev-server --help`.
const devServerPhoneHelp = `
Scripted phone: each line on standard input is a sign-in QR payload as
standard base64 (the "data" of 'qrlogin login --headless --json' "qr"
events), optionally followed by words that script the phone:
  deny                   deny on the consent page instead of approving
  fail=STEP:REASON       send m.login.failure REASON instead of STEP
  unexpected=STEP        send a message of an unexpected type at STEP
  tamper=STEP            flip a ciphertext bit of STEP's message on the wire
  replay=STEP            replay the phone's previous ciphertext instead of STEP's
  silent=STEP            skip STEP and only listen (the other side must time out)
  wrong-secrets          share keys that do not belong to the account
  server-name            2024 generation: send the homeserver as a bare name
  delay=DURATION         wait this long before each message (e.g. 2s)
STEP is protocols, protocol_accepted, consent or secrets. The phone prints
"check code: NN" on standard error; type those digits on the new device.
`

// runDevServerPhone reads QR payloads from stdin and runs the scripted
// phone for each, one after the other, until EOF or ctx ends.
func runDevServerPhone(ctx context.Context, srv *devserver.Server, stdio Stdio) error {
	if stdio.In == nil {
		return nil
	}
	fmt.Fprintln(stdio.Err, "dev-server: scripted phone: paste a QR payload (base64) per line; see --help")
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdio.In)
		sc.Buffer(make([]byte, 8192), 64<<10)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			return nil // EOF: keep serving
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if fields := strings.Fields(line); fields[0] == newDeviceCommand {
			// The other direction: play the new device (dev_newdevice.go).
			if err := runNewDeviceLine(ctx, srv, stdio, fields[1:]); err != nil {
				return err
			}
			continue
		}
		qr, script, err := parsePhoneLine(line)
		if err != nil {
			fmt.Fprintf(stdio.Err, "dev-server: scripted phone: %v\n", err)
			continue
		}
		res, err := phone.Run(ctx, phone.Config{
			Homeserver:  srv,
			Script:      script,
			OnCheckCode: func(code string) { fmt.Fprintf(stdio.Err, "check code: %s\n", code) },
		}, qr)
		switch {
		case err == nil:
			fmt.Fprintf(stdio.Err, "dev-server: scripted phone: signed in device %s and shared the secrets\n", res.NewDeviceID)
		case errors.Is(err, context.Canceled):
			return err
		default:
			fmt.Fprintf(stdio.Err, "dev-server: scripted phone: %v\n", err)
		}
	}
}

// parsePhoneLine reads "BASE64 [word...]" (devServerPhoneHelp).
func parsePhoneLine(line string) ([]byte, phone.Script, error) {
	var s phone.Script
	qr, err := scriptWords{
		parseStep: phone.ParseStep, deny: &s.Deny, failAt: &s.FailAt, failReason: &s.FailReason,
		unexpectedAt: &s.UnexpectedAt, tamperAt: &s.TamperAt, silentAt: &s.SilentAt, delay: &s.Delay,
		own: func(name, value string) (bool, error) {
			var err error
			switch name {
			case "wrong-secrets":
				s.WrongSecrets = true
			case "server-name":
				s.HomeserverAsServerName = true
			case "replay":
				s.ReplayAt, err = phone.ParseStep(value)
			default:
				return false, nil
			}
			return true, err
		},
	}.parse(strings.Fields(line))
	if err != nil {
		return nil, s, err
	}
	return qr, s, s.Validate()
}
