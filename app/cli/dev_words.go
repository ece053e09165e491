package cli

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/qrlogin/qrlogin/internal/phone"
)

// scriptWords reads the words of a dev-server stdin line that script a
// phone.Script or a phone.NewDeviceScript (devServerPhoneHelp,
// devServerNewDeviceHelp). The words both share set the fields pointed at;
// own reads the rest.
type scriptWords struct {
	// parseStep reads STEP for the role (phone.ParseStep,
	// phone.ParseNewDeviceStep).
	parseStep    func(string) (phone.Step, error)
	deny         *bool
	failAt       *phone.Step
	failReason   *string
	unexpectedAt *phone.Step
	tamperAt     *phone.Step
	silentAt     *phone.Step
	delay        *time.Duration
	// own reads a word the role alone has (name, and value after "=");
	// known false means there is no such word.
	own func(name, value string) (known bool, err error)
}

// parse reads "BASE64 [word...]" (fields split on white space, at least
// one): the QR payload and then each word.
func (w scriptWords) parse(fields []string) ([]byte, error) {
	qr, err := base64.StdEncoding.DecodeString(fields[0])
	if err != nil {
		return nil, fmt.Errorf("the QR payload is not standard base64: %v", err)
	}
	for _, word := range fields[1:] {
		if err := w.word(word); err != nil {
			return nil, err
		}
	}
	return qr, nil
}

func (w scriptWords) word(word string) error {
	name, value, _ := strings.Cut(word, "=")
	var err error
	switch name {
	case "deny":
		*w.deny = true
	case "fail":
		st, reason, found := strings.Cut(value, ":")
		if !found || reason == "" {
			return fmt.Errorf("fail=%s: want fail=STEP:REASON", value)
		}
		if *w.failAt, err = w.parseStep(st); err != nil {
			return err
		}
		*w.failReason = reason
	case "unexpected":
		*w.unexpectedAt, err = w.parseStep(value)
	case "tamper":
		*w.tamperAt, err = w.parseStep(value)
	case "silent":
		*w.silentAt, err = w.parseStep(value)
	case "delay":
		*w.delay, err = time.ParseDuration(value)
	default:
		var known bool
		if known, err = w.own(name, value); !known {
			err = fmt.Errorf("unknown word %q", word)
		}
	}
	return err
}
