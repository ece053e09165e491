package qrcode

import "testing"

// A typical new-device payload: unstable prefix, ULID, base URL.
func typicalPayload(b *testing.B) Payload {
	p := publishedVectors(b)[6].want
	p.Intent = IntentNewDevice
	return p
}

// BenchmarkEncodeAndRender is what the GUI does for each fresh QR code:
// payload bytes, module matrix, image at 8 px per module.
func BenchmarkEncodeAndRender(b *testing.B) {
	p := typicalPayload(b)
	b.ReportAllocs()
	for b.Loop() {
		raw, err := p.Encode()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Image(raw, 8); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewMatrix(b *testing.B) {
	raw, _ := typicalPayload(b).Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewMatrix(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTerminal(b *testing.B) {
	raw, _ := typicalPayload(b).Encode()
	m, _ := NewMatrix(raw)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Terminal(TerminalOptions{})
	}
}

func BenchmarkDecode(b *testing.B) {
	raw, _ := typicalPayload(b).Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
