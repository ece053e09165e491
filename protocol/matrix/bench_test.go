package matrix

import "testing"

// BenchmarkKeysUpload: building and signing the whole /keys/upload body
// (device keys signed twice, one signed fallback key).
func BenchmarkKeysUpload(b *testing.B) {
	d, err := NewDeviceIdentity("@alice:example.org", "ABCDEFGHJK")
	if err != nil {
		b.Fatal(err)
	}
	ssk := NewPrivateKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.KeysUpload(ssk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalize: a /keys/query-sized object.
func BenchmarkCanonicalize(b *testing.B) {
	in := []byte(`{"user_id":"@alice:example.org","device_id":"ABCDEFGHJK","algorithms":["m.olm.v1.curve25519-aes-sha2","m.megolm.v1.aes-sha2"],"keys":{"curve25519:ABCDEFGHJK":"I11VOe5quKuH/YjdOqn5VcW06fvPIJQ9JX8ryj6ario","ed25519:ABCDEFGHJK":"b8gROFh+UIHLD/obY0+IlxoWiGtYVhKdqixvw4QHcN8"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonicalize(in); err != nil {
			b.Fatal(err)
		}
	}
}
