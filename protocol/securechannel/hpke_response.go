package securechannel

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"golang.org/x/crypto/chacha20poly1305"
)

// responseContext is the OHTTP-style "response" context of MSC4388 step 5
// (RFC 9458 section 4.4): G seals with it, S opens with it. Go's crypto/hpke
// cannot build a context from a raw key and base nonce, so this is the RFC
// 9180 AEAD context by hand (docs/protocol-divergences.md "Response
// context" and "Go crypto notes"):
//
//	salt      = Sp || RN
//	prk       = HKDF-Extract(SHA-256, salt, secret)
//	key       = HKDF-Expand(prk, "key", 32)
//	baseNonce = HKDF-Expand(prk, "nonce", 12)
//	nonce(i)  = baseNonce XOR I2OSP(i, 12)
//
// The sequence number starts at 0 and moves on after every seal and after
// every successful open only. Its exporter (a dummy all-zero secret in the
// MSC) must never be used, so it has none.
type responseContext struct {
	key       [chacha20poly1305.KeySize]byte
	baseNonce [chacha20poly1305.NonceSize]byte
	aead      cipher.AEAD
	seq       uint64
}

var errHPKEMessageLimit = errors.New("securechannel: message limit of the HPKE context reached")

// newResponseContext derives the context from the secret exported under the
// response label, S's public key (the HPKE enc) and G's response nonce.
func newResponseContext(secret, sp, rn []byte) (*responseContext, error) {
	salt := make([]byte, 0, len(sp)+len(rn))
	salt = append(salt, sp...)
	salt = append(salt, rn...)
	prk, err := hkdf.Extract(sha256.New, secret, salt)
	if err != nil {
		return nil, err
	}
	defer clear(prk)
	key, err := hkdf.Expand(sha256.New, prk, "key", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	nonce, err := hkdf.Expand(sha256.New, prk, "nonce", chacha20poly1305.NonceSize)
	if err != nil {
		return nil, err
	}
	defer clear(nonce)

	r := &responseContext{}
	copy(r.key[:], key)
	copy(r.baseNonce[:], nonce)
	// chacha20poly1305 keeps its own copy of the key, which zero cannot
	// reach; dropping the AEAD leaves it to the garbage collector.
	r.aead, err = chacha20poly1305.New(r.key[:])
	if err != nil {
		r.zero()
		return nil, err
	}
	return r, nil
}

// nonce is RFC 9180 ComputeNonce: the sequence number big-endian in the
// last 8 of the 12 bytes, XORed into the base nonce.
func (r *responseContext) nonce() [chacha20poly1305.NonceSize]byte {
	n := r.baseNonce
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], r.seq)
	for i, b := range seq {
		n[len(n)-8+i] ^= b
	}
	return n
}

// Seal encrypts plaintext under the next sequence number.
func (r *responseContext) Seal(aad, plaintext []byte) ([]byte, error) {
	if r.aead == nil {
		return nil, ErrChannelClosed
	}
	if r.seq == math.MaxUint64 {
		return nil, errHPKEMessageLimit
	}
	n := r.nonce()
	ct := r.aead.Seal(nil, n[:], plaintext, aad)
	r.seq++
	return ct, nil
}

// Open decrypts ciphertext under the next sequence number; only success
// consumes it.
func (r *responseContext) Open(aad, ciphertext []byte) ([]byte, error) {
	if r.aead == nil {
		return nil, ErrChannelClosed
	}
	if r.seq == math.MaxUint64 {
		return nil, errHPKEMessageLimit
	}
	n := r.nonce()
	pt, err := r.aead.Open(nil, n[:], ciphertext, aad)
	if err != nil {
		return nil, err
	}
	r.seq++
	return pt, nil
}

// zero wipes the key and base nonce; the context cannot be used afterwards.
func (r *responseContext) zero() {
	if r == nil {
		return
	}
	clear(r.key[:])
	clear(r.baseNonce[:])
	r.aead = nil
}

// Format keeps key material out of logs, whatever the verb.
func (responseContext) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "[redacted]")
}
