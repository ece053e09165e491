package oauth

import "github.com/qrlogin/qrlogin/protocol/internal/secureurl"

// ErrInsecureURL: the server named an endpoint or a verification URI that
// is not https and not on a loopback host. The device code, the tokens and
// the consent page travel through these URLs, so they follow the same
// transport rule as the rendezvous (protocol/internal/secureurl). A
// *MetadataError that names the field wraps it.
var ErrInsecureURL = secureurl.ErrInsecure
