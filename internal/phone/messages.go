package phone

import (
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// typeUnexpected is what Script.UnexpectedAt sends: a type no step expects.
const typeUnexpected = "org.qrlogin.test.unexpected"

// messageType reads the type of a received message; one that is not an
// MSC4108 message gives an error wrapping malformed.
func messageType(raw []byte, malformed error) (string, error) {
	typ, err := msc4108.TypeOf(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", malformed, err)
	}
	return typ, nil
}
