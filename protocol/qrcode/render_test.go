package qrcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// decodeWithGozxing reads a rendered code with the pure-Go ZXing port. It
// returns the concatenated BYTE_SEGMENTS (the exact bytes; GetText is
// charset-guessed and does not round-trip, docs/build-notes.md "QR
// decoders"), how many byte segments there were, and the data codewords.
func decodeWithGozxing(img image.Image) (payload []byte, byteSegments int, raw []byte, err error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return nil, 0, nil, err
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE: true,
	})
	if err != nil {
		return nil, 0, nil, err
	}
	segs, _ := res.GetResultMetadata()[gozxing.ResultMetadataType_BYTE_SEGMENTS].([][]byte)
	for _, s := range segs {
		payload = append(payload, s...)
	}
	return payload, len(segs), res.GetRawBytes(), nil
}

// checkSingleByteSegment parses the data codewords independently of any
// decoder's segment handling: the stream must be one byte-mode segment
// (mode 0100) of exactly n bytes followed by the terminator or the end.
func checkSingleByteSegment(raw []byte, n, version int) error {
	bits := func(from, count int) int {
		v := 0
		for i := from; i < from+count; i++ {
			v = v<<1 | int(raw[i/8]>>(7-i%8)&1)
		}
		return v
	}
	countBits := 8
	if version >= 10 {
		countBits = 16
	}
	if len(raw)*8 < 4+countBits+8*n {
		return fmt.Errorf("%d data codewords cannot hold %d bytes", len(raw), n)
	}
	if mode := bits(0, 4); mode != 0b0100 {
		return fmt.Errorf("first segment mode %04b, want byte (0100)", mode)
	}
	if got := bits(4, countBits); got != n {
		return fmt.Errorf("byte segment of %d, want %d", got, n)
	}
	if next := 4 + countBits + 8*n; next+4 <= len(raw)*8 && bits(next, 4) != 0 {
		return fmt.Errorf("another segment (mode %04b) follows", bits(next, 4))
	}
	return nil
}

// checkGozxing renders payload and checks gozxing reads back the same bytes
// as exactly one byte-mode segment.
func checkGozxing(t *testing.T, payload []byte, scale int) Matrix {
	t.Helper()
	m, err := NewMatrix(payload)
	if err != nil {
		t.Fatalf("NewMatrix(%x): %v", payload, err)
	}
	img, err := m.Image(scale)
	if err != nil {
		t.Fatal(err)
	}
	got, segs, raw, err := decodeWithGozxing(img)
	if err != nil {
		t.Fatalf("gozxing cannot read %x: %v", payload, err)
	}
	if segs != 1 || !bytes.Equal(got, payload) {
		t.Fatalf("gozxing read %d byte segments %x\nwant one segment %x", segs, got, payload)
	}
	if err := checkSingleByteSegment(raw, len(payload), m.Version()); err != nil {
		t.Fatalf("payload %x: %v", payload, err)
	}
	// A decoder silently corrects wrong check codewords; verifySymbol does not.
	if _, err := verifySymbol(m, payload); err != nil {
		t.Fatalf("payload %x: %v", payload, err)
	}
	return m
}

// zbarimg returns the path of Debian's zbarimg or skips the test.
func zbarimg(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg (Debian zbar-tools) is not installed; skipping the second independent decoder")
	}
	return path
}

// zbarQROnly makes zbarimg look for QR codes only and print their exact
// bytes, including those >= 0x80. With every symbology enabled (the default)
// its linear scanners can find a phantom barcode among a QR symbol's modules,
// and in binary mode the symbols are printed back to back with nothing in
// between, so the phantom's digits look like extra payload bytes
// (docs/build-notes.md "QR decoders").
var zbarQROnly = []string{"-Sdisable", "-Sqrcode.enable", "-Sbinary"}

// decodeWithZbar writes img as PNG and reads it with zbarimg, QR codes only,
// in binary mode; extra arguments go before the file name.
func decodeWithZbar(t *testing.T, zbar string, img image.Image, extra ...string) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "qr.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	args := append([]string{"--nodbus", "--raw", "-q"}, zbarQROnly...)
	cmd := exec.Command(zbar, append(append(args, extra...), file)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg: %v: %s", err, stderr.String())
	}
	return out
}

var crockford = []byte("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

// ulid makes a 26-character ULID-style ID like Synapse's
// 01HX9K00Q1H6KPD47EG4G1T3XG: upper-case alphanumerics that a mixed-mode
// encoder turns into an alphanumeric segment.
func ulid(r *rand.Rand) string {
	b := make([]byte, 26)
	for i := range b {
		b[i] = crockford[r.IntN(len(crockford))]
	}
	return string(b)
}

var sampleBaseURLs = []string{
	"https://matrix-client.matrix.org", "https://synapse-oidc.lab.element.dev", "https://MATRIX.EXAMPLE.ORG",
	"http://127.0.0.1:8008", "https://matrix.example.com/_matrix/base", "https://xn--mtrix-lra.example",
}

// randomPayload is a valid sign-in payload of a random form with random key
// bytes (so plenty of bytes >= 0x80) and a ULID or UUID-ish ID.
func randomPayload(t testing.TB, r *rand.Rand) []byte {
	t.Helper()
	var p Payload
	for i := range p.PublicKey {
		p.PublicKey[i] = byte(r.Uint32())
	}
	p.Intent = Intent(r.IntN(2))
	id := ulid(r)
	if r.IntN(4) == 0 {
		id = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(1<<16), r.Int64N(1<<48))
	}
	base := sampleBaseURLs[r.IntN(len(sampleBaseURLs))]
	switch r.IntN(3) {
	case 0, 1:
		p.Generation = vocab.MSC4388
		p.Prefix = []Prefix{PrefixUnstable, PrefixStable}[r.IntN(2)]
		p.IDLengthWidth = 1 + r.IntN(2)
		p.RendezvousID, p.BaseURL = id, base
	default:
		p.Generation = vocab.MSC4108v2024
		p.RendezvousURL = base + "/_synapse/client/rendezvous/" + id
		if p.Intent == IntentExistingDevice {
			p.ServerName = []string{"matrix.org", base + "/"}[r.IntN(2)]
		}
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatalf("%+v: %v", p, err)
	}
	return b
}

func mscExample(t testing.TB) []byte { return publishedVectors(t)[0].payload }

// The MSC example is version 9 (53×53 modules, 61 with the quiet zone), as
// `qrencode -8 -l Q` made the MSC's images; so is the 2-byte-length variant.
func TestMSCExampleIsVersion9(t *testing.T) {
	for _, v := range publishedVectors(t)[:6] {
		m := checkGozxing(t, v.payload, 3)
		if m.Version() != 9 || m.Size() != 61 {
			t.Errorf("%s: version %d, %d modules with quiet zone; want 9, 61", v.name, m.Version(), m.Size())
		}
	}
}

// The MSC's own example images (qrencode -8 -l Q) decode with gozxing to the
// vectors, have the same geometry as ours (183 px = 61 modules × 3 px) and
// the same data codewords.
func TestShippedMSCImages(t *testing.T) {
	vs := publishedVectors(t)
	for file, want := range map[string][]byte{
		"MSC4388-example-qr-intent00.png":          vs[0].payload,
		"MSC4388-example-qr-intent01.png":          vs[1].payload,
		"MSC4388-example-qr-intent01-unstable.png": vs[2].payload,
	} {
		f, err := os.Open(filepath.Join("..", "..", "..", "shared", "spec", file))
		if err != nil {
			t.Skipf("spec images not next to the work tree: %v", err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, segs, raw, err := decodeWithGozxing(img)
		if err != nil || segs != 1 || !bytes.Equal(got, want) {
			t.Fatalf("%s: gozxing read %d segments %x, %v", file, segs, got, err)
		}
		if err := checkSingleByteSegment(raw, len(want), 9); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		ours, err := NewMatrix(want)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != ours.Size()*3 {
			t.Errorf("%s: %d px wide, ours is %d modules × 3", file, img.Bounds().Dx(), ours.Size())
		}
		// The mask pattern may differ (each encoder scores masks its own
		// way), but the data codewords (mode, count, bytes, terminator,
		// padding) must be those qrencode wrote.
		ourImg, err := ours.Image(3)
		if err != nil {
			t.Fatal(err)
		}
		_, _, ourRaw, err := decodeWithGozxing(ourImg)
		if err != nil || !bytes.Equal(ourRaw, raw) {
			t.Errorf("%s: data codewords differ from qrencode's:\n ours %x\n  MSC %x (%v)", file, ourRaw, raw, err)
		}
	}
}

func TestRandomPayloadsDecodeWithGozxing(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4388))
	for range 300 {
		checkGozxing(t, randomPayload(t, r), 1+r.IntN(3))
	}
}

// Arbitrary bytes of many lengths, covering the switch from an 8-bit to a
// 16-bit length field at version 10 and the largest symbol.
func TestArbitraryBytesAllSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 10, 50, 100, 106, 107, 130, 131, 132, 151, 200, 300, 500, 1000, 1500, MaxPayload} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		checkGozxing(t, b, 1)
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := NewMatrix(make([]byte, MaxPayload+1)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("too large: %v", err)
	}
	for _, scale := range []int{-1, 0, MaxScale + 1} {
		if _, err := Image(mscExample(t), scale); !errors.Is(err, ErrBadScale) {
			t.Errorf("scale %d: %v", scale, err)
		}
	}
	if _, err := NewMatrix(nil); err != nil {
		t.Errorf("empty payload: %v", err)
	}
	// A hand-built ragged matrix draws without panicking.
	ragged := Matrix{Modules: [][]bool{{true, true, true}, {true}}}
	if _, err := ragged.Image(2); err != nil {
		t.Error(err)
	}
	_ = ragged.Terminal(TerminalOptions{})
}

// Image draws black on white, scale pixels per module, quiet zone included.
func TestImageGeometry(t *testing.T) {
	m, err := NewMatrix(mscExample(t))
	if err != nil {
		t.Fatal(err)
	}
	const scale = 5
	img, err := m.Image(scale)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 61*scale, 61*scale) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			dark := img.ColorIndexAt(x, y) == 1
			if dark != m.Dark(x/scale, y/scale) {
				t.Fatalf("pixel %d,%d is dark=%v, module is %v", x, y, dark, m.Dark(x/scale, y/scale))
			}
		}
	}
	// Quiet zone light, finder pattern corner dark.
	if m.Dark(QuietZone-1, QuietZone) || !m.Dark(QuietZone, QuietZone) {
		t.Fatal("quiet zone or finder pattern misplaced")
	}
}

func TestZbarDecodesRenderedPNG(t *testing.T) {
	zbar := zbarimg(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4108))
	payloads := [][]byte{mscExample(t), zbarPhantomPayload}
	for _, v := range publishedVectors(t) {
		payloads = append(payloads, v.payload)
	}
	for range 60 {
		payloads = append(payloads, randomPayload(t, r))
	}
	high := make([]byte, 256) // every byte value, including 0x80-0xff
	for i := range high {
		high[i] = byte(i)
	}
	payloads = append(payloads, high)
	for _, p := range payloads {
		m, err := NewMatrix(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verifySymbol(m, p); err != nil {
			t.Fatalf("payload %x: %v", p, err)
		}
		img, err := m.Image(2)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeWithZbar(t, zbar, img); !bytes.Equal(got, p) {
			t.Fatalf("zbarimg read %x\nwant %x\n(the symbol itself passed verifySymbol)", got, p)
		}
	}
}

// zbarimg with its default symbologies finds, besides the QR code, an
// Interleaved 2 of 5 barcode "275643" in this version-11 symbol, and binary
// mode prints it straight after the payload. The symbol is valid
// (TestPhantomPayloadSymbolIsValid, TestQrencodeSymbolVerifies); read as a
// QR code only, zbar returns exactly the payload.
func TestZbarPhantomLinearBarcode(t *testing.T) {
	zbar := zbarimg(t)
	img, err := Image(zbarPhantomPayload, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeWithZbar(t, zbar, img); !bytes.Equal(got, zbarPhantomPayload) {
		t.Fatalf("zbarimg (QR only) read %x\nwant %x", got, zbarPhantomPayload)
	}
	// Every symbology back on: only logged, other zbar versions may differ.
	all := decodeWithZbar(t, zbar, img, "-Senable")
	if extra, ok := bytes.CutPrefix(all, zbarPhantomPayload); ok && len(extra) > 0 {
		t.Logf("zbarimg with all symbologies appends %q (a phantom linear barcode)", extra)
	}
}

// parseTerminal turns half-block text back into module rows: the inverse
// of Matrix.Terminal, written independently for the test.
func parseTerminal(t *testing.T, text string, invert bool) [][]bool {
	t.Helper()
	var rows [][]bool
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var upper, lower []bool
		for _, c := range line {
			var u, l bool
			switch c {
			case ' ':
			case '▀':
				u = true
			case '▄':
				l = true
			case '█':
				u, l = true, true
			default:
				t.Fatalf("unexpected rune %q", c)
			}
			// Ink is a light module unless inverted.
			upper, lower = append(upper, u == invert), append(lower, l == invert)
		}
		rows = append(rows, upper, lower)
	}
	return rows
}

func TestTerminalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, p := range [][]byte{mscExample(t), randomPayload(t, r), randomPayload(t, r)} {
		m, err := NewMatrix(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, invert := range []bool{false, true} {
			text := m.Terminal(TerminalOptions{Invert: invert})
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if len(lines) != (m.Size()+1)/2 {
				t.Fatalf("%d lines for %d rows", len(lines), m.Size())
			}
			rows := parseTerminal(t, text, invert)
			// The half row below an odd-sized matrix has no ink.
			last := rows[len(rows)-1]
			for _, v := range last {
				if v == invert { // parsed "no ink" is !invert
					t.Fatal("ink below the matrix")
				}
			}
			rows = rows[:m.Size()]
			for y := range rows {
				if len(rows[y]) != m.Size() {
					t.Fatalf("line width %d, want %d", len(rows[y]), m.Size())
				}
				for x := range rows[y] {
					if rows[y][x] != m.Dark(x, y) {
						t.Fatalf("invert=%v: module %d,%d differs", invert, x, y)
					}
				}
			}
			// And the parsed matrix is still the same code, to gozxing.
			back, err := Matrix{Modules: rows}.Image(2)
			if err != nil {
				t.Fatal(err)
			}
			got, _, _, err := decodeWithGozxing(back)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("terminal matrix decodes to %x, %v", got, err)
			}
		}
	}
	// Default: the quiet zone (light) is inked; inverted it is blank.
	m, _ := NewMatrix(mscExample(t))
	if first := []rune(m.Terminal(TerminalOptions{}))[0]; first != '█' {
		t.Errorf("default quiet zone rune %q, want full block", first)
	}
	if first := []rune(m.Terminal(TerminalOptions{Invert: true}))[0]; first != ' ' {
		t.Errorf("inverted quiet zone rune %q, want space", first)
	}
	var buf bytes.Buffer
	if err := m.WriteTerminal(&buf, TerminalOptions{}); err != nil || buf.String() != m.Terminal(TerminalOptions{}) {
		t.Errorf("WriteTerminal: %v", err)
	}
}
