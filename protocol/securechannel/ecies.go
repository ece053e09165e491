package securechannel

// The 2024 MSC4108 secure channel as vodozemac's `ecies` module builds it
// (docs/protocol-divergences.md "ECIES channel"). It is what
// released phones speak: Element X through matrix-rust-sdk, Element Web
// through matrix-sdk-crypto-wasm.
//
// Establishment, in MSC4388's vocabulary (G shows the QR code, S scans it):
//
//  1. S: Ss fresh, shared = X25519(Ss, Gp), derive keyS, keyG and the check
//     code; send LoginInitiateMessage = b64(Seal_keyS(nonce 0,
//     "MATRIX_QR_CODE_LOGIN_INITIATE")) "|" b64(Sp).
//  2. G: shared = X25519(Gs, Sp), derive the same; open the initiate, check
//     the text; send LoginOkMessage = b64(Seal_keyG(nonce 0,
//     "MATRIX_QR_CODE_LOGIN_OK")).
//  3. S: open LoginOk, check the text, show the check code; the user types
//     it on G (Channel.Confirm).

import (
	"context"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha512"
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Handshake plaintexts and HKDF info prefixes (vodozemac src/ecies and
// matrix-rust-sdk qrcode/secure_channel). The info strings end in
// "|b64(Gp)|b64(Sp)", G's key first on both devices.
const (
	eciesInitiatePlaintext = "MATRIX_QR_CODE_LOGIN_INITIATE"
	eciesOkPlaintext       = "MATRIX_QR_CODE_LOGIN_OK"

	eciesInfoKeyS      = "MATRIX_QR_CODE_LOGIN_ENCKEY_S" // S → G
	eciesInfoKeyG      = "MATRIX_QR_CODE_LOGIN_ENCKEY_G" // G → S
	eciesInfoCheckCode = "MATRIX_QR_CODE_LOGIN_CHECKCODE"
)

// eciesSecrets is what both sides derive from the X25519 shared secret.
type eciesSecrets struct {
	keyS  eciesKey // encrypts S → G
	keyG  eciesKey // encrypts G → S
	check CheckCode
}

// deriveECIES runs the key schedule: X25519, then HKDF-SHA512 with no salt
// (RFC 5869 turns that into 64 zero bytes). Both the 2024 MSC text and
// vodozemac's module doc say SHA-256; the code uses SHA-512, and only that
// decrypts (docs/protocol-divergences.md "ECIES channel", checked against
// wasm 18.9).
// crypto/ecdh refuses an all-zero (non-contributory) shared secret, as
// vodozemac does.
func deriveECIES(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, gp, sp []byte) (eciesSecrets, error) {
	shared, err := priv.ECDH(peer)
	if err != nil {
		return eciesSecrets{}, fmt.Errorf("%w: key agreement failed: %v", ErrHandshake, err)
	}
	defer clear(shared)

	suffix := "|" + encodeBase64(gp) + "|" + encodeBase64(sp)
	var s eciesSecrets
	for _, k := range []struct {
		info string
		dst  *eciesKey
	}{{eciesInfoKeyS, &s.keyS}, {eciesInfoKeyG, &s.keyG}} {
		key, err := hkdf.Key(sha512.New, shared, nil, k.info+suffix, eciesKeySize)
		if err != nil {
			return eciesSecrets{}, err
		}
		copy(k.dst[:], key)
		clear(key)
	}
	code, err := hkdf.Key(sha512.New, shared, nil, eciesInfoCheckCode+suffix, 2)
	if err != nil {
		return eciesSecrets{}, err
	}
	s.check = eciesCheckCode(code[0], code[1])
	return s, nil
}

// eciesCheckCode turns the two derived bytes into the 2024 digits: each byte
// mod 10, so the code may start with 0 ("07"), unlike MSC4388's 10..99.
// vodozemac calls this CheckCode::to_digit (AllowLeadingZero).
func eciesCheckCode(b0, b1 byte) CheckCode {
	return CheckCode{digits: string([]byte{'0' + b0%10, '0' + b1%10})}
}

// acceptECIES is G's half: wait (at human pace, the user is still scanning)
// for LoginInitiateMessage, check it, answer with LoginOkMessage.
func acceptECIES(ctx context.Context, priv *ecdh.PrivateKey, sess Transport) (*Channel, error) {
	wire, err := sess.Receive(ctx, vocab.PaceHuman)
	if err != nil {
		return nil, err
	}
	initiate, err := parseECIESInitiate(wire)
	if err != nil {
		return nil, err
	}
	peer, err := ecdh.X25519().NewPublicKey(initiate.senderKey)
	if err != nil {
		return nil, fmt.Errorf("%w: bad public key in initiate message: %v", ErrHandshake, err)
	}
	secrets, err := deriveECIES(priv, peer, priv.PublicKey().Bytes(), initiate.senderKey)
	if err != nil {
		return nil, err
	}
	cipher := newECIESCipher(secrets.keyG, secrets.keyS)
	clear(secrets.keyG[:])
	clear(secrets.keyS[:])

	pt, err := cipher.openBytes(initiate.ciphertext)
	if err != nil {
		cipher.zero()
		return nil, fmt.Errorf("%w: initiate message: %w: %v", ErrHandshake, ErrDecrypt, err)
	}
	if !eciesEqual(pt, eciesInitiatePlaintext) {
		cipher.zero()
		return nil, fmt.Errorf("%w: initiate message has the wrong content", ErrHandshake)
	}
	ok, err := cipher.seal(nil, []byte(eciesOkPlaintext))
	if err != nil {
		cipher.zero()
		return nil, err
	}
	if err := sess.Send(ctx, ok); err != nil {
		cipher.zero()
		return nil, err
	}
	return &Channel{
		gen:    vocab.MSC4108v2024,
		role:   RoleGenerator,
		sess:   sess,
		cipher: cipher,
		code:   secrets.check,
	}, nil
}

// scanECIES is S's half with a fresh ephemeral key.
func scanECIES(ctx context.Context, peer *ecdh.PublicKey, sess Transport) (*Channel, error) {
	ephemeral, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return scanECIESWithKey(ctx, peer, ephemeral, sess)
}

// scanECIESWithKey is S's half with a given ephemeral key (tests pass the
// fixed key of docs/protocol-divergences.md "Test vectors"): send
// LoginInitiateMessage, wait for LoginOkMessage (G is a program, so poll at
// reply pace), check it.
func scanECIESWithKey(ctx context.Context, peer *ecdh.PublicKey, ephemeral *ecdh.PrivateKey, sess Transport) (*Channel, error) {
	sp := ephemeral.PublicKey().Bytes()
	secrets, err := deriveECIES(ephemeral, peer, peer.Bytes(), sp)
	if err != nil {
		return nil, err
	}
	cipher := newECIESCipher(secrets.keyS, secrets.keyG)
	clear(secrets.keyG[:])
	clear(secrets.keyS[:])

	ct, err := cipher.sealBytes([]byte(eciesInitiatePlaintext))
	if err != nil {
		cipher.zero()
		return nil, err
	}
	if err := sess.Send(ctx, encodeECIESInitiate(eciesInitiate{ciphertext: ct, senderKey: sp})); err != nil {
		cipher.zero()
		return nil, err
	}
	wire, err := sess.Receive(ctx, vocab.PaceReply)
	if err != nil {
		cipher.zero()
		return nil, err
	}
	pt, err := cipher.open(nil, wire)
	if err != nil {
		cipher.zero()
		return nil, fmt.Errorf("%w: ok message: %w: %v", ErrHandshake, ErrDecrypt, err)
	}
	if !eciesEqual(pt, eciesOkPlaintext) {
		cipher.zero()
		return nil, fmt.Errorf("%w: ok message has the wrong content", ErrHandshake)
	}
	return &Channel{
		gen:    vocab.MSC4108v2024,
		role:   RoleScanner,
		sess:   sess,
		cipher: cipher,
		code:   secrets.check,
	}, nil
}
