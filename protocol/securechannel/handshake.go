package securechannel

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// Generator is device G: it owns the ephemeral X25519 key pair whose public
// half goes into the QR code (MSC4388 "Establishment" step 1 and 3).
type Generator struct {
	gen     vocab.Generation
	variant vocab.Variant
	priv    *ecdh.PrivateKey
	pub     []byte // kept apart: priv is dropped by Accept, the QR may still be redrawn
}

// NewGenerator makes a fresh ephemeral key pair for one QR code.
func NewGenerator(gen vocab.Generation, variant vocab.Variant) (*Generator, error) {
	switch gen {
	case vocab.MSC4388, vocab.MSC4108v2024:
	default:
		return nil, fmt.Errorf("securechannel: unknown generation %q", gen)
	}
	if variant == "" {
		variant = vocab.VariantReference
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Generator{gen: gen, variant: variant, priv: priv, pub: priv.PublicKey().Bytes()}, nil
}

// Generation reports the generator's protocol stack.
func (g *Generator) Generation() vocab.Generation { return g.gen }

// PublicKey is Gp, the 32 bytes that go into the QR code.
func (g *Generator) PublicKey() []byte { return append([]byte(nil), g.pub...) }

// Accept waits on sess for S's LoginInitiateMessage, answers with
// LoginOkMessage, and returns the channel. The caller must then ask the
// user for the check code and call Channel.Confirm before sending anything.
// The generator's private key is dropped afterwards: one QR, one channel.
func (g *Generator) Accept(ctx context.Context, sess Transport, bind Binding) (*Channel, error) {
	if g.priv == nil {
		return nil, ErrChannelClosed
	}
	priv := g.priv
	g.priv = nil
	switch g.gen {
	case vocab.MSC4388:
		return acceptHPKE(ctx, priv, g.variant, sess, bind)
	default:
		return acceptECIES(ctx, priv, sess)
	}
}

// Scan is device S: given G's public key from the QR code, it sends
// LoginInitiateMessage on sess, waits for LoginOkMessage, and returns the
// channel whose CheckCode the user must type on G.
func Scan(ctx context.Context, gen vocab.Generation, variant vocab.Variant, sess Transport, peerKey []byte, bind Binding) (*Channel, error) {
	if variant == "" {
		variant = vocab.VariantReference
	}
	peer, err := ecdh.X25519().NewPublicKey(peerKey)
	if err != nil {
		return nil, fmt.Errorf("%w: bad public key in QR code: %v", ErrHandshake, err)
	}
	switch gen {
	case vocab.MSC4388:
		return scanHPKE(ctx, peer, variant, sess, bind)
	case vocab.MSC4108v2024:
		return scanECIES(ctx, peer, sess)
	default:
		return nil, fmt.Errorf("securechannel: unknown generation %q", gen)
	}
}
