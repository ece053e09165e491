package phone

import (
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/msc4108"
)

// typeUnexpected is what Script.UnexpectedAt sends: a type no step expects.
const typeUnexpected = "org.qrlogin.test.unexpected"

// messageType reads the type of a received message.
func messageType(raw []byte) (string, error) {
	typ, err := msc4108.TypeOf(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformedMessage, err)
	}
	return typ, nil
}
