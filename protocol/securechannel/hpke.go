package securechannel

// PLACEHOLDER: replaced by the MSC4388 HPKE implementation.

import (
	"context"
	"crypto/ecdh"
	"errors"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

func acceptHPKE(ctx context.Context, priv *ecdh.PrivateKey, v Variant, sess rendezvous.Session, bind Binding) (*Channel, error) {
	return nil, errors.New("securechannel: MSC4388 not implemented yet")
}

func scanHPKE(ctx context.Context, peer *ecdh.PublicKey, v Variant, sess rendezvous.Session, bind Binding) (*Channel, error) {
	return nil, errors.New("securechannel: MSC4388 not implemented yet")
}
