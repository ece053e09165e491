package securechannel

import (
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Fixed strings of the MSC4388 channel (MSC4388 "Establishment" steps 4-6;
// docs/protocol-divergences.md "HPKE suite" and "Handshake messages").
const (
	hpkeInfo              = "MATRIX_QR_CODE_LOGIN"
	hpkeInitiatePlaintext = "MATRIX_QR_CODE_LOGIN_INITIATE"
	hpkeOkPlaintext       = "MATRIX_QR_CODE_LOGIN_OK"
	hpkeResponseSecretLen = 32
	hpkeCheckCodeLen      = 2
)

// hpkeLabels are the exporter contexts, which is where the MSC text and
// vodozemac differ (docs/protocol-divergences.md "Response secret label"
// and "Check code").
type hpkeLabels struct {
	variant vocab.Variant
}

func hpkeLabelsFor(v vocab.Variant) (hpkeLabels, error) {
	switch v {
	case vocab.VariantReference, vocab.VariantMSCText:
		return hpkeLabels{variant: v}, nil
	case "":
		return hpkeLabels{variant: vocab.VariantReference}, nil
	default:
		return hpkeLabels{}, fmt.Errorf("securechannel: unknown variant %q", v)
	}
}

// response is the exporter context of the secret behind the response
// context: vodozemac's MATRIX_QR_CODE_LOGIN_RESPONSE, or the MSC text's
// "MATRIX_QR_CODE_LOGIN response".
func (l hpkeLabels) response() string {
	if l.variant == vocab.VariantMSCText {
		return hpkeInfo + " response"
	}
	return hpkeInfo + "_RESPONSE"
}

// checkCode is the exporter context of the check code. Gp (the generator's
// key, from the QR) comes first on both devices. vodozemac:
// "MATRIX_QR_CODE_LOGIN_CHECKCODE|" + b64(Gp) + "|" + b64(Sp) in unpadded
// standard base64; the MSC text: the prefix followed by the raw 64 bytes.
func (l hpkeLabels) checkCode(gp, sp []byte) string {
	const prefix = hpkeInfo + "_CHECKCODE"
	if l.variant == vocab.VariantMSCText {
		return prefix + string(gp) + string(sp)
	}
	return prefix + "|" + encodeBase64(gp) + "|" + encodeBase64(sp)
}

// hpkeExporter is the HPKE Export interface of a primary context
// (*hpke.Sender on S, *hpke.Recipient on G).
type hpkeExporter interface {
	Export(exporterContext string, length int) ([]byte, error)
}

// hpkeCheckCode exports two bytes from the primary context and turns them
// into the code S shows (MSC4388 step 6, vodozemac DigitMode::NoLeadingZero).
func hpkeCheckCode(exp hpkeExporter, l hpkeLabels, gp, sp []byte) (CheckCode, error) {
	b, err := exp.Export(l.checkCode(gp, sp), hpkeCheckCodeLen)
	if err != nil {
		return CheckCode{}, err
	}
	return hpkeCheckDigits(b[0], b[1]), nil
}

// hpkeCheckDigits maps the two exported bytes to 10..99: the first digit is
// (b0 mod 9) + 1 so it is never 0, the second b1 mod 10.
func hpkeCheckDigits(b0, b1 byte) CheckCode {
	return CheckCode{digits: fmt.Sprintf("%d%d", b0%9+1, b1%10)}
}
