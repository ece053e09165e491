package oauth

import (
	"crypto/rand"
	"fmt"
)

// Matrix OAuth 2.0 API scopes (Matrix spec v1.15 "Scope", MSC2967). MAS
// accepts either family but never both in one request
// (docs/protocol-divergences.md "Device authorization"): rust-sdk sends the
// unstable pair, js-sdk and the MSC4108 text the stable one.
const (
	scopeAPIStable        = "urn:matrix:client:api:*"
	scopeDevicePrefix     = "urn:matrix:client:device:"
	scopeAPIUnstable      = "urn:matrix:org.matrix.msc2967.client:api:*"
	scopeDevicePrefixMSC  = "urn:matrix:org.matrix.msc2967.client:device:"
	deviceIDMinLength     = 10
	deviceIDMaxLength     = 255
	deviceIDAlphabet      = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	generatedDeviceIDSize = 12
)

// Scopes returns the C-S API scope and the device scope for deviceID, in the
// stable form or, when unstable is set, in the MSC2967 unstable form — never
// mixed, because MAS's policy rejects a mixed request at consent time.
// The device ID must satisfy MAS's policy: at least 10 characters from
// [A-Za-z0-9._~!$&'()*+,;=:@/-].
func Scopes(deviceID string, unstable bool) ([]string, error) {
	if err := checkDeviceID(deviceID); err != nil {
		return nil, err
	}
	if unstable {
		return []string{scopeAPIUnstable, scopeDevicePrefixMSC + deviceID}, nil
	}
	return []string{scopeAPIStable, scopeDevicePrefix + deviceID}, nil
}

func checkDeviceID(id string) error {
	if len(id) < deviceIDMinLength || len(id) > deviceIDMaxLength {
		return fmt.Errorf("oauth: device ID must be %d to %d characters long", deviceIDMinLength, deviceIDMaxLength)
	}
	for _, c := range []byte(id) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !ok {
			switch c {
			case '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/', '-':
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("oauth: device ID contains %q, which the server's policy rejects", c)
		}
	}
	return nil
}

// NewDeviceID returns a fresh random device ID of 12 characters from
// [A-Z0-9] (crypto/rand). An ID without '/' or '+' survives the phone's
// GET /devices/{id} behind proxies that decode %2F
// (docs/protocol-divergences.md "Device ID").
func NewDeviceID() string {
	out := make([]byte, 0, generatedDeviceIDSize)
	var buf [32]byte
	for len(out) < generatedDeviceIDSize {
		rand.Read(buf[:]) // never fails (crypto/rand, Go 1.24+)
		for _, b := range buf {
			// Rejection sampling: 252 = 7*36 keeps the choice uniform.
			if b < 252 && len(out) < generatedDeviceIDSize {
				out = append(out, deviceIDAlphabet[int(b)%len(deviceIDAlphabet)])
			}
		}
	}
	return string(out)
}
