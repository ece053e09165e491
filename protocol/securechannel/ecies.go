package securechannel

// PLACEHOLDER: replaced by the 2024 ECIES implementation.

import (
	"context"
	"crypto/ecdh"
	"errors"

	"github.com/qrlogin/qrlogin/protocol/rendezvous"
)

func acceptECIES(ctx context.Context, priv *ecdh.PrivateKey, sess rendezvous.Session) (*Channel, error) {
	return nil, errors.New("securechannel: MSC4108 2024 not implemented yet")
}

func scanECIES(ctx context.Context, peer *ecdh.PublicKey, sess rendezvous.Session) (*Channel, error) {
	return nil, errors.New("securechannel: MSC4108 2024 not implemented yet")
}
