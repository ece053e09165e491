package qrcode

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Published vectors: MSC4388 "QR code format" / "Unstable prefix" examples and
// the QR payloads of docs/protocol-divergences.md "Test vectors" (rust-sdk,
// wasm 18.9, MSC4108 2024).

const (
	mscKeyB64   = "2IZoarIZe3gOMAqdSiFHSAcA15KfOasxueUUNwJI7Ws"
	mscID       = "e8da6355-550b-4a32-a193-1619d9830668"
	mscBaseURL  = "https://matrix-client.matrix.org"
	rustKeyB64  = "tMs2dUFaUNY5Z6MVl93eY61kRXxC8Y0toDe6c/cvtzw"
	rustID      = "01HX9K00Q1H6KPD47EG4G1T3XG"
	rustBaseURL = "https://synapse-oidc.lab.element.dev"
)

// hexBytes decodes hex with the MSC's readability whitespace.
func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64Bytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func key(t testing.TB, b64 string) [KeySize]byte {
	t.Helper()
	var k [KeySize]byte
	if n := copy(k[:], b64Bytes(t, b64)); n != KeySize {
		t.Fatalf("key %s has %d bytes", b64, n)
	}
	return k
}

// The MSC4388 example body after the intent byte (hex from the MSC text).
const mscBodyHex = `d8 86 68 6a b2 19 7b 78 0e 30 0a 9d 4a 21 47 48 07 00 d7 92 9f 39 ab 31 b9 e5 14 37 02 48 ed 6b
24
65 38 64 61 36 33 35 35 2D 35 35 30 62 2D 34 61 33 32 2D 61 31 39 33 2D 31 36 31 39 64 39 38 33 30 36 36 38
00 20
68 74 74 70 73 3A 2F 2F 6D 61 74 72 69 78 2D 63 6C 69 65 6E 74 2E 6d 61 74 72 69 78 2e 6f 72 67`

const (
	stableHex   = "4D 41 54 52 49 58"
	unstableHex = "49 4F 5F 45 4C 45 4D 45 4E 54 5F 4D 53 43 34 33 38 38"
)

type vector struct {
	name    string
	payload []byte
	want    Payload
	// canonical: Encode(want) reproduces payload byte for byte.
	canonical bool
}

func publishedVectors(t testing.TB) []vector {
	mscKey, rustKey := key(t, mscKeyB64), key(t, rustKeyB64)
	msc := func(prefix Prefix, intent Intent, width int) Payload {
		return Payload{Generation: vocab.MSC4388, Prefix: prefix, Intent: intent, IDLengthWidth: width,
			PublicKey: mscKey, RendezvousID: mscID, BaseURL: mscBaseURL}
	}
	// wasm 18.9 / rust main: same as the MSC example but "00 24" for the ID length.
	twoByteBody := strings.Replace(mscBodyHex, "\n24\n", "\n00 24\n", 1)
	rendezvous2024 := "https://rendezvous.lab.element.dev/e8da6355-550b-4a32-a193-1619d9830668"
	return []vector{
		{"MSC4388 example, new device (stable prefix)",
			hexBytes(t, stableHex+"03 00"+mscBodyHex), msc(PrefixStable, IntentNewDevice, 1), true},
		{"MSC4388 example, existing device (stable prefix)",
			hexBytes(t, stableHex+"03 01"+mscBodyHex), msc(PrefixStable, IntentExistingDevice, 1), true},
		{"MSC4388 unstable-prefix example, existing device",
			hexBytes(t, unstableHex+"03 01"+mscBodyHex), msc(PrefixUnstable, IntentExistingDevice, 1), true},
		{"wasm 18.9 / rust main, 2-byte ID length, unstable, new device",
			hexBytes(t, unstableHex+"03 00"+twoByteBody), msc(PrefixUnstable, IntentNewDevice, 2), true},
		{"wasm 18.9 / rust main, 2-byte ID length, unstable, existing device",
			hexBytes(t, unstableHex+"03 01"+twoByteBody), msc(PrefixUnstable, IntentExistingDevice, 2), true},
		{"wasm 18.9 / rust main, 2-byte ID length, stable prefix",
			hexBytes(t, stableHex+"03 00"+twoByteBody), msc(PrefixStable, IntentNewDevice, 2), true},
		{"rust-sdk PR #6173 vector (1-byte ID length)",
			b64Bytes(t, "SU9fRUxFTUVOVF9NU0M0Mzg4AwG0yzZ1QVpQ1jlnoxWX3d5jrWRFfELxjS2gN7pz9y+3PBowMUhYOUswMFExSDZLUEQ0N0VHNEcxVDNYRwAkaHR0cHM6Ly9zeW5hcHNlLW9pZGMubGFiLmVsZW1lbnQuZGV2"),
			Payload{Generation: vocab.MSC4388, Prefix: PrefixUnstable, Intent: IntentExistingDevice, IDLengthWidth: 1,
				PublicKey: rustKey, RendezvousID: rustID, BaseURL: rustBaseURL}, true},
		{"rust-sdk main vector (2-byte ID length)",
			b64Bytes(t, "SU9fRUxFTUVOVF9NU0M0Mzg4AwG0yzZ1QVpQ1jlnoxWX3d5jrWRFfELxjS2gN7pz9y+3PAAaMDFIWDlLMDBRMUg2S1BENDdFRzRHMVQzWEcAJGh0dHBzOi8vc3luYXBzZS1vaWRjLmxhYi5lbGVtZW50LmRldg"),
			Payload{Generation: vocab.MSC4388, Prefix: PrefixUnstable, Intent: IntentExistingDevice, IDLengthWidth: 2,
				PublicKey: rustKey, RendezvousID: rustID, BaseURL: rustBaseURL}, true},
		{"MSC4108 2024, mode 0x03 (new device)",
			hexBytes(t, "4d41545249580203"+hex.EncodeToString(mscKey[:])+"0047"+hex.EncodeToString([]byte(rendezvous2024))),
			Payload{Generation: vocab.MSC4108v2024, Intent: IntentNewDevice, PublicKey: mscKey, RendezvousURL: rendezvous2024}, true},
		{"MSC4108 2024, mode 0x04 (existing device, bare server name)",
			hexBytes(t, "4d41545249580204"+hex.EncodeToString(mscKey[:])+"0047"+hex.EncodeToString([]byte(rendezvous2024))+"000a"+hex.EncodeToString([]byte("matrix.org"))),
			Payload{Generation: vocab.MSC4108v2024, Intent: IntentExistingDevice, PublicKey: mscKey, RendezvousURL: rendezvous2024, ServerName: "matrix.org"}, true},
		{"rust-sdk VALID_LOGIN_QR (2024 mode 0x03, base64 with padding)",
			b64Bytes(t, "TUFUUklYAgPYhmhqshl7eA4wCp1KIUdIBwDXkp85qzG55RQ3AkjtawBHaHR0cHM6Ly9yZW5kZXp2b3VzLmxhYi5lbGVtZW50LmRldi9lOGRhNjM1NS01NTBiLTRhMzItYTE5My0xNjE5ZDk4MzA2Njg="),
			Payload{Generation: vocab.MSC4108v2024, Intent: IntentNewDevice, PublicKey: mscKey, RendezvousURL: rendezvous2024}, true},
		{"rust-sdk QR_CODE_DATA_BASE64 (2024 mode 0x04, server name as full URL)",
			b64Bytes(t, "TUFUUklYAgS0yzZ1QVpQ1jlnoxWX3d5jrWRFfELxjS2gN7pz9y+3PABaaHR0cHM6Ly9zeW5hcHNlLW9pZGMubGFiLmVsZW1lbnQuZGV2L19zeW5hcHNlL2NsaWVudC9yZW5kZXp2b3VzLzAxSFg5SzAwUTFINktQRDQ3RUc0RzFUM1hHACVodHRwczovL3N5bmFwc2Utb2lkYy5sYWIuZWxlbWVudC5kZXYv"),
			Payload{Generation: vocab.MSC4108v2024, Intent: IntentExistingDevice, PublicKey: rustKey,
				RendezvousURL: "https://synapse-oidc.lab.element.dev/_synapse/client/rendezvous/01HX9K00Q1H6KPD47EG4G1T3XG",
				ServerName:    "https://synapse-oidc.lab.element.dev/"}, true},
	}
}

func TestPublishedVectors(t *testing.T) {
	for _, v := range publishedVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			got, err := Decode(v.payload)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != v.want {
				t.Fatalf("Decode:\n got %+v\nwant %+v", got, v.want)
			}
			enc, err := v.want.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if v.canonical && !bytes.Equal(enc, v.payload) {
				t.Fatalf("Encode:\n got %x\nwant %x", enc, v.payload)
			}
		})
	}
}

// The MSC text's sizes, also quoted in docs/build-notes.md "QR encoding".
func TestMSCExampleSizes(t *testing.T) {
	v := publishedVectors(t)
	if n := len(v[0].payload); n != 111 {
		t.Errorf("MSC example is %d bytes, want 111", n)
	}
	if n := len(v[5].payload); n != 112 {
		t.Errorf("2-byte-length example is %d bytes, want 112", n)
	}
}

// The encoder writes the 1-byte ID length of the current MSC text unless
// told otherwise (docs/protocol-divergences.md "QR rendezvous-ID length").
func TestEncodeDefaultsToOneByteIDLength(t *testing.T) {
	p := publishedVectors(t)[3].want // decoded from the 2-byte form
	p.IDLengthWidth = 0
	p.Prefix = ""
	got, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := hexBytes(t, unstableHex+"03 00"+mscBodyHex)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
}

// The default prefix is the unstable one; the stable one is selectable
// (docs/protocol-divergences.md "QR prefix"), also via the channel variant.
func TestPrefixSelection(t *testing.T) {
	p := publishedVectors(t)[0].want
	for _, c := range []struct {
		prefix Prefix
		want   string
	}{{"", string(PrefixUnstable)}, {PrefixFor(vocab.VariantReference), string(PrefixUnstable)},
		{PrefixFor(vocab.VariantMSCText), "MATRIX"}, {PrefixStable, "MATRIX"}} {
		p.Prefix = c.prefix
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(c.want)) || b[len(c.want)] != 0x03 {
			t.Errorf("prefix %q: payload starts %q", c.prefix, b[:len(c.want)+1])
		}
	}
	p.Prefix = "MATRIX_LOGIN"
	if _, err := p.Encode(); !isFormat(err, ErrBadPrefix) {
		t.Errorf("unknown prefix: %v", err)
	}
}

// A lone trailing "/" is dropped from the base URL when encoding
// (docs/protocol-divergences.md "Base URL in the QR"); a real path keeps its
// slash; Decode reports the URL as carried.
func TestEncodeTrimsLoneTrailingSlash(t *testing.T) {
	p := publishedVectors(t)[0].want
	for in, want := range map[string]string{
		"https://matrix-client.matrix.org/":         "https://matrix-client.matrix.org",
		"https://matrix-client.matrix.org":          "https://matrix-client.matrix.org",
		"https://example.org:8448/":                 "https://example.org:8448",
		"https://example.org/matrix/":               "https://example.org/matrix/",
		"https://example.org/?q":                    "https://example.org/?q",
		"http://[::1]:8008/":                        "http://[::1]:8008",
		"https://matrix-client.matrix.org//":        "https://matrix-client.matrix.org//",
		"https://matrix-client.matrix.org/#section": "https://matrix-client.matrix.org/#section",
	} {
		p.BaseURL = in
		b, err := p.Encode()
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got.BaseURL != want {
			t.Errorf("%s: encoded as %s, want %s", in, got.BaseURL, want)
		}
	}
	// Decode keeps a trailing slash that another encoder wrote.
	raw := hexBytes(t, unstableHex+"03 00"+strings.Replace(mscBodyHex, "00 20", "00 21", 1)+"2f")
	got, err := Decode(raw)
	if err != nil || got.BaseURL != mscBaseURL+"/" {
		t.Fatalf("Decode with slash: %q %v", got.BaseURL, err)
	}
}
