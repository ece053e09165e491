package rendezvous

import "github.com/qrlogin/qrlogin/protocol/vocab"

// Test helpers for the external test package (rendezvous_test), whose
// tests run the clients against package server, which imports this one.
var (
	FastRetry      = fastRetry
	FastPoll       = fastPoll
	TestCtx        = testCtx
	DropConnection = dropConnection
	BenchHops      = benchHops
	// ReplyInterval is the production PaceReply poll interval.
	ReplyInterval = replyPoll.interval(vocab.PaceReply)
)
