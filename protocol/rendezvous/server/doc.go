// Package server is qrlogin's rendezvous server, behind `qrlogin
// rendezvous-server`: one http.Handler that serves rendezvous sessions of
// both protocol generations, MSC4388 (sequence tokens, JSON, under the
// unstable and /v1/ prefixes) and the 2024 MSC4108 ETag API, from memory.
// The paths, error codes, header names and payload limit it shares with
// the clients are package rendezvous's.
package server
