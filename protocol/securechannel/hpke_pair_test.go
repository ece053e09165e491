package securechannel

import (
	"context"
	"testing"
	"time"

	"github.com/qrlogin/qrlogin/protocol/vocab"
)

// pairResult is the outcome of one handshake between G and S.
type pairResult struct {
	srv        *memServer
	g, s       *Channel
	gErr, sErr error
	gSess      *memSession
	sSess      *memSession
}

type handshakeFunc func(ctx context.Context, sess Transport) (*Channel, error)

// runHandshake creates a session on srv as G (POST with an empty payload),
// lets S join it (first GET), and runs both halves concurrently. When one
// side fails, the session is cancelled so the other stops waiting.
func runHandshake(t testing.TB, srv *memServer, accept, scan handshakeFunc) pairResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gSess := srv.create("")
	sSess := srv.join()
	res := pairResult{srv: srv, gSess: gSess, sSess: sSess}
	type out struct {
		ch  *Channel
		err error
	}
	gDone, sDone := make(chan out, 1), make(chan out, 1)
	go func() { ch, err := accept(ctx, gSess); gDone <- out{ch, err} }()
	go func() { ch, err := scan(ctx, sSess); sDone <- out{ch, err} }()
	for gDone != nil || sDone != nil {
		select {
		case o := <-gDone:
			res.g, res.gErr, gDone = o.ch, o.err, nil
			if o.err != nil {
				_ = gSess.Cancel(ctx)
			}
		case o := <-sDone:
			res.s, res.sErr, sDone = o.ch, o.err, nil
			if o.err != nil {
				_ = sSess.Cancel(ctx)
			}
		}
	}
	return res
}

// pairOptions describe one G/S pair made through the public API.
type pairOptions struct {
	gen          vocab.Generation
	gVariant     vocab.Variant
	sVariant     vocab.Variant
	gBind, sBind Binding
}

var testBinding = Binding{BaseURL: "https://matrix-client.matrix.org", RendezvousID: "01HX9K00Q1H6KPD47EG4G1T3XG"}

func defaultPairOptions(gen vocab.Generation) pairOptions {
	return pairOptions{gen: gen, gVariant: vocab.VariantReference, sVariant: vocab.VariantReference, gBind: testBinding, sBind: testBinding}
}

// newPair runs NewGenerator/Accept against Scan over a fresh memServer.
func newPair(t testing.TB, o pairOptions, srv *memServer) pairResult {
	t.Helper()
	if srv == nil {
		srv = newMemServer()
	}
	g, err := NewGenerator(o.gen, o.gVariant)
	if err != nil {
		t.Fatal(err)
	}
	gp := g.PublicKey()
	return runHandshake(t, srv,
		func(ctx context.Context, sess Transport) (*Channel, error) {
			return g.Accept(ctx, sess, o.gBind)
		},
		func(ctx context.Context, sess Transport) (*Channel, error) {
			return Scan(ctx, o.gen, o.sVariant, sess, gp, o.sBind)
		})
}

// mustPair is newPair that fails the test unless both sides succeed.
func mustPair(t testing.TB, o pairOptions) pairResult {
	t.Helper()
	p := newPair(t, o, nil)
	if p.gErr != nil || p.sErr != nil {
		t.Fatalf("handshake failed: G: %v; S: %v", p.gErr, p.sErr)
	}
	return p
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
