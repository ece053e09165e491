package devserver

// defaultRendezvousFactory builds the rendezvous package's server. It is nil
// until protocol/rendezvous exports its server (rendezvous.NewServer); then
// this file becomes:
//
//	var defaultRendezvousFactory RendezvousFactory = func(o RendezvousOptions) (http.Handler, error) {
//		return rendezvous.NewServer(rendezvous.ServerConfig{...from o...}), nil
//	}
//
// Until then the rendezvous paths answer 404 M_UNRECOGNIZED unless
// Config.Rendezvous supplies a handler.
var defaultRendezvousFactory RendezvousFactory
