package securechannel

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// MSC4388 secure channel: HPKE base mode with DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256 and ChaCha20-Poly1305, info "MATRIX_QR_CODE_LOGIN" (MSC4388
// "Secure channel"; docs/protocol-divergences.md "HPKE suite"). S is the
// HPKE sender, G the recipient; G answers through a response context
// (hpke_response.go).
//
// Sequence tokens in the AAD (docs/protocol-divergences.md "AAD token
// snapshot"; worked sequence POST→T1; S seals Initiate with T1, PUT→T2; G
// opens with T1, seals LoginOk with T2, PUT→T3; S opens with T2; …): a seal
// uses the session's current token (from the GET that delivered the last
// message), an open the token snapshotted before polling (our own last PUT,
// or G's POST).

// hpkeSenderContext is what S needs of its primary context.
type hpkeSenderContext interface {
	hpkeSealer
	hpkeExporter
}

// hpkeHooks are the handshake's sources of randomness. Production uses
// crypto/hpke's own ephemeral key and crypto/rand. crypto/hpke takes no
// caller-chosen ephemeral key, so tests replace both to replay the
// fixed-key HPKE transcript (docs/protocol-divergences.md "Test vectors").
type hpkeHooks struct {
	// setupSender is RFC 9180 SetupBaseS: enc (= Sp) and S's context.
	setupSender func(pk *ecdh.PublicKey) (enc []byte, ctx hpkeSenderContext, err error)
	// random supplies G's response nonce.
	random io.Reader
}

var defaultHPKEHooks = hpkeHooks{setupSender: setupBaseSender, random: rand.Reader}

func setupBaseSender(peer *ecdh.PublicKey) ([]byte, hpkeSenderContext, error) {
	pk, err := hpke.NewDHKEMPublicKey(peer)
	if err != nil {
		return nil, nil, err
	}
	enc, sender, err := hpke.NewSender(pk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		return nil, nil, err
	}
	return enc, sender, nil
}

func acceptHPKE(ctx context.Context, priv *ecdh.PrivateKey, v vocab.Variant, sess Transport, bind Binding) (*Channel, error) {
	return acceptHPKEWith(ctx, defaultHPKEHooks, priv, v, sess, bind)
}

func scanHPKE(ctx context.Context, peer *ecdh.PublicKey, v vocab.Variant, sess Transport, bind Binding) (*Channel, error) {
	return scanHPKEWith(ctx, defaultHPKEHooks, peer, v, sess, bind)
}

// acceptHPKEWith is G's half (MSC4388 step 5): wait for LoginInitiateMessage,
// open it with the recipient context, build the response context and answer
// with LoginOkMessage. The check code is G's to compare in Channel.Confirm.
func acceptHPKEWith(ctx context.Context, hooks hpkeHooks, priv *ecdh.PrivateKey, v vocab.Variant, sess Transport, bind Binding) (*Channel, error) {
	labels, err := hpkeLabelsFor(v)
	if err != nil {
		return nil, err
	}
	binding, err := newAADBinding(bind)
	if err != nil {
		return nil, err
	}
	// The token current when S wrote: the one of our POST (snapshot before
	// polling, the session moves on to the GET's token).
	openAAD, err := binding.build(sess.Token())
	if err != nil {
		return nil, err
	}
	wire, err := sess.Receive(ctx, vocab.PaceHuman) // a person is scanning
	if err != nil {
		return nil, err
	}
	initiate, err := decodeLoginInitiate(wire)
	if err != nil {
		return nil, fmt.Errorf("%w: LoginInitiateMessage: %v", ErrHandshake, err)
	}
	sp := initiate.prefix

	sk, err := hpke.NewDHKEMPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	recipient, err := hpke.NewRecipient(sp, sk, hpke.HKDFSHA256(), hpke.ChaCha20Poly1305(), []byte(hpkeInfo))
	if err != nil {
		// A low-order point or similar: S's key is unusable.
		return nil, fmt.Errorf("%w: LoginInitiateMessage carries an unusable key: %v", ErrHandshake, err)
	}
	pt, err := recipient.Open(openAAD, initiate.ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: LoginInitiateMessage: %w", ErrHandshake, ErrDecrypt)
	}
	if !bytes.Equal(pt, []byte(hpkeInitiatePlaintext)) {
		return nil, fmt.Errorf("%w: LoginInitiateMessage has the wrong content", ErrHandshake)
	}

	rn := make([]byte, hpkeResponseNonceSize)
	if _, err := io.ReadFull(hooks.random, rn); err != nil {
		return nil, err
	}
	response, err := newResponseFromPrimary(recipient, labels, sp, rn)
	if err != nil {
		return nil, err
	}
	code, err := hpkeCheckCode(recipient, labels, priv.PublicKey().Bytes(), sp)
	if err != nil {
		response.zero()
		return nil, err
	}
	// Seal with the token of the GET that delivered LoginInitiateMessage.
	sealAAD, err := binding.build(sess.Token())
	if err != nil {
		response.zero()
		return nil, err
	}
	ct, err := response.Seal(sealAAD, []byte(hpkeOkPlaintext))
	if err != nil {
		response.zero()
		return nil, err
	}
	if err := sess.Send(ctx, encodeHPKEHandshake(rn, ct)); err != nil {
		response.zero()
		return nil, err
	}
	return &Channel{
		gen:    vocab.MSC4388,
		role:   RoleGenerator,
		sess:   sess,
		cipher: &hpkeCipher{sealer: response, opener: recipient, response: response},
		aad:    binding.build,
		code:   code,
	}, nil
}

// scanHPKEWith is S's half (MSC4388 steps 4 and 6). sess must already have
// seen G's initial payload: its Token() is the token of that GET, which
// LoginInitiateMessage is sealed with.
func scanHPKEWith(ctx context.Context, hooks hpkeHooks, peer *ecdh.PublicKey, v vocab.Variant, sess Transport, bind Binding) (*Channel, error) {
	labels, err := hpkeLabelsFor(v)
	if err != nil {
		return nil, err
	}
	binding, err := newAADBinding(bind)
	if err != nil {
		return nil, err
	}
	sealAAD, err := binding.build(sess.Token())
	if err != nil {
		return nil, err
	}
	sp, sender, err := hooks.setupSender(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot encrypt to the key in the QR code: %v", ErrHandshake, err)
	}
	ct, err := sender.Seal(sealAAD, []byte(hpkeInitiatePlaintext))
	if err != nil {
		return nil, err
	}
	if err := sess.Send(ctx, encodeHPKEHandshake(sp, ct)); err != nil {
		return nil, err
	}
	// G seals LoginOk with the token our PUT produced; snapshot it before
	// polling moves the session on.
	openAAD, err := binding.build(sess.Token())
	if err != nil {
		return nil, err
	}
	wire, err := sess.Receive(ctx, vocab.PaceReply) // G is a program
	if err != nil {
		return nil, err
	}
	ok, err := decodeLoginOk(wire)
	if err != nil {
		return nil, fmt.Errorf("%w: LoginOkMessage: %v", ErrHandshake, err)
	}
	response, err := newResponseFromPrimary(sender, labels, sp, ok.prefix)
	if err != nil {
		return nil, err
	}
	pt, err := response.Open(openAAD, ok.ciphertext)
	if err != nil {
		response.zero()
		return nil, fmt.Errorf("%w: LoginOkMessage: %w", ErrHandshake, ErrDecrypt)
	}
	if !bytes.Equal(pt, []byte(hpkeOkPlaintext)) {
		response.zero()
		return nil, fmt.Errorf("%w: LoginOkMessage has the wrong content", ErrHandshake)
	}
	// Only now does S know the channel is secure (MSC4388 step 6).
	code, err := hpkeCheckCode(sender, labels, peer.Bytes(), sp)
	if err != nil {
		response.zero()
		return nil, err
	}
	return &Channel{
		gen:    vocab.MSC4388,
		role:   RoleScanner,
		sess:   sess,
		cipher: &hpkeCipher{sealer: sender, opener: response, response: response},
		aad:    binding.build,
		code:   code,
	}, nil
}

// newResponseFromPrimary exports the response secret from a primary context
// and derives the response context with salt Sp || RN.
func newResponseFromPrimary(primary hpkeExporter, labels hpkeLabels, sp, rn []byte) (*responseContext, error) {
	secret, err := primary.Export(labels.response(), hpkeResponseSecretLen)
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	return newResponseContext(secret, sp, rn)
}
