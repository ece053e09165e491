package phone

import (
	"context"
	"sync"
)

// NewDevice is a scripted new device running in the background
// (StartNewDevice), for tests that drive the existing device on their own
// goroutine and need the check code and the proposal as they happen.
type NewDevice struct {
	codeShown chan struct{}
	protoSent chan struct{}
	done      chan struct{}

	mu    sync.Mutex
	code  string
	proto ProtocolSent
	res   *NewDeviceResult
	err   error
}

// StartNewDevice runs RunNewDevice on a new goroutine. cfg's own
// OnCheckCode and OnProtocolSent are still called.
func StartNewDevice(ctx context.Context, cfg NewDeviceConfig, qr []byte) *NewDevice {
	n := &NewDevice{codeShown: make(chan struct{}), protoSent: make(chan struct{}), done: make(chan struct{})}
	onCode, onProto := cfg.OnCheckCode, cfg.OnProtocolSent
	cfg.OnCheckCode = func(code string) {
		n.mu.Lock()
		n.code = code
		n.mu.Unlock()
		close(n.codeShown)
		if onCode != nil {
			onCode(code)
		}
	}
	cfg.OnProtocolSent = func(p ProtocolSent) {
		n.mu.Lock()
		n.proto = p
		n.mu.Unlock()
		close(n.protoSent)
		if onProto != nil {
			onProto(p)
		}
	}
	go func() {
		res, err := RunNewDevice(ctx, cfg, qr)
		n.mu.Lock()
		n.res, n.err = res, err
		n.mu.Unlock()
		close(n.done)
	}()
	return n
}

// CheckCode waits until the new device shows its check code. If the run
// ends first, it returns the run's error.
func (n *NewDevice) CheckCode(ctx context.Context) (string, error) {
	if err := n.await(ctx, n.codeShown); err != nil {
		return "", err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.code, nil
}

// ProtocolSent waits until m.login.protocol was sent. If the run ends
// first, it returns the run's error.
func (n *NewDevice) ProtocolSent(ctx context.Context) (ProtocolSent, error) {
	if err := n.await(ctx, n.protoSent); err != nil {
		return ProtocolSent{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proto, nil
}

// Done is closed when the run has ended.
func (n *NewDevice) Done() <-chan struct{} { return n.done }

// Wait waits for the end of the run and returns RunNewDevice's answer.
func (n *NewDevice) Wait() (*NewDeviceResult, error) {
	<-n.done
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.res, n.err
}

func (n *NewDevice) await(ctx context.Context, ready <-chan struct{}) error {
	select {
	case <-ready:
		return nil
	case <-n.done:
		select {
		case <-ready: // shown just before the end
			return nil
		default:
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.err != nil {
			return n.err
		}
		return errNoSuchStep
	case <-ctx.Done():
		return ctx.Err()
	}
}
