package rendezvous

// What the clients and qrlogin's rendezvous server (package
// protocol/rendezvous/server) share on the wire, besides the API paths
// (PathUnstable, PathStable, Path2024) and the /versions flag (Feature2024).

// PathVersions is the client-server API's /versions endpoint, where a
// homeserver advertises Feature2024 in unstable_features.
const PathVersions = "/_matrix/client/versions"

// MaxPayload is the largest payload a session holds, in bytes of its UTF-8
// string: MSC4388 "Maximum payload size" (the server MUST enforce 4096
// bytes), and Synapse's body limit for the 2024 API.
const MaxPayload = 4096

// Matrix error codes of the rendezvous endpoints that the clients interpret.
const (
	// ErrcodeUnrecognized: no such endpoint (404) or method (405); the
	// server does not serve this API.
	ErrcodeUnrecognized = "M_UNRECOGNIZED"
	// ErrcodeNotFound: no such session (expired, cancelled or never made).
	ErrcodeNotFound = "M_NOT_FOUND"
	// ErrcodeUnknown: any other failure; a 2024 412 answers it with the
	// real code in ETagErrcodeField.
	ErrcodeUnknown = "M_UNKNOWN"
	// ErrcodeConcurrentWrite and ErrcodeConcurrentWriteUnstable answer an
	// MSC4388 PUT whose sequence_token is stale (409). MSC4388 "Unstable
	// prefix": the unstable code belongs to the unstable path, the stable
	// one to /v1/; Synapse sends the unstable one, so clients accept both.
	ErrcodeConcurrentWrite         = "M_CONCURRENT_WRITE"
	ErrcodeConcurrentWriteUnstable = "IO_ELEMENT_MSC4388_CONCURRENT_WRITE"
)

// ETagErrcodeField is the field of a 2024 412 answer that carries
// ErrcodeConcurrentWrite, next to errcode ErrcodeUnknown.
const ETagErrcodeField = "org.matrix.msc4108.errcode"

// Header names of the 2024 ETag API: the server sends the payload's entity
// tag in ETag; a poll sends the last one seen in If-None-Match (304 when
// unchanged), a write the one it replaces in If-Match (412 when stale).
const (
	HeaderETag        = "ETag"
	HeaderIfMatch     = "If-Match"
	HeaderIfNoneMatch = "If-None-Match"
)
