package devserver

import (
	"net/http"
	"strings"
)

// synapseCORSHeaders are what Synapse sends on every answer of its JSON
// servlets, errors included (synapse/http/server.py set_cors_headers;
// docs/protocol-divergences.md "CORS"), so a web client on another
// origin can call the homeserver. The rendezvous paths are not covered
// here: the rendezvous handler sets its own, wider set (If-Match, ETag).
var synapseCORSHeaders = [...]struct{ name, value string }{
	{"Access-Control-Allow-Origin", "*"},
	{"Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS"},
	{"Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization, Date"},
	{"Access-Control-Expose-Headers", "Synapse-Trace-Id, Server"},
}

// synapseCORSPrefixes are the paths Synapse itself serves here: the
// client-server API and the client well-known. The OAuth paths (/oauth2/,
// /authorize, /link, /.well-known/openid-configuration) are MAS's, which
// has its own CORS policy, and stay without.
var synapseCORSPrefixes = []string{"/_matrix/", "/.well-known/matrix/"}

// synapseCORSPath reports whether path gets Synapse's CORS headers.
func synapseCORSPath(path string) bool {
	for _, prefix := range rendezvousPrefixes {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return false
		}
	}
	for _, prefix := range synapseCORSPrefixes {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

func setSynapseCORS(h http.Header) {
	for _, c := range synapseCORSHeaders {
		h.Set(c.name, c.value)
	}
}

// answerPreflight answers a CORS preflight the way Synapse's OptionsResource
// does, before any routing: 204, no body, for every path, known or not (a
// 404 preflight would stop a browser from sending the real request).
func answerPreflight(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}
