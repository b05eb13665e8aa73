package notifytest

import (
	"context"
	"sync"

	"github.com/tierwatch/tierwatch/notify"
)

// Notifier records what it is sent. Fail, when set, is called with the
// 1-based attempt number and the message; a non-nil result is returned as
// the send error and the message is not recorded as delivered.
type Notifier struct {
	Dest string
	Fail func(attempt int, m notify.Message) error

	mu       sync.Mutex // guards attempts and sent
	attempts int
	sent     []notify.Message
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return n.Dest }

// Send implements notify.Notifier.
func (n *Notifier) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	n.mu.Lock()
	n.attempts++
	a := n.attempts
	n.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return notify.Receipt{}, err
	}
	if n.Fail != nil {
		if err := n.Fail(a, m); err != nil {
			return notify.Receipt{}, err
		}
	}
	n.mu.Lock()
	n.sent = append(n.sent, m)
	n.mu.Unlock()
	return notify.Receipt{Status: 200, Body: "ok"}, nil
}

// Sent returns a copy of the delivered messages, in order.
func (n *Notifier) Sent() []notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]notify.Message(nil), n.sent...)
}

// Attempts returns how many times Send was called.
func (n *Notifier) Attempts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attempts
}
