package decision

import (
	"fmt"
	"maps"
	"slices"

	"github.com/cairndb/cairn/txn"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// Replicas are the register's replicas.
	Replicas []txn.NodeID
	// RetryTicks is how long the client waits for an answer before it asks
	// the next replica. Default (in the protocols that embed a client): a
	// few round trips.
	RetryTicks int
	// MaxPending bounds the undecided proposals; Propose beyond it returns
	// txn.ErrTooManyTxns.
	MaxPending int
}

// Validate reports the first field out of range.
func (c ClientConfig) Validate() error {
	switch {
	case c.RetryTicks < 1:
		return fmt.Errorf("%w: decision client: RetryTicks = %d, want >= 1", txn.ErrConfigInvalid, c.RetryTicks)
	case c.MaxPending < 1:
		return fmt.Errorf("%w: decision client: MaxPending = %d, want >= 1", txn.ErrConfigInvalid, c.MaxPending)
	}
	if err := txn.CheckParticipants(c.Replicas, txn.MaxRecordParticipants); err != nil {
		return fmt.Errorf("%w: decision client: Replicas: %v", txn.ErrConfigInvalid, err)
	}
	return nil
}

// Client asks the register to decide transactions and retries, rotating
// through the replicas, until one answers. It is embedded in the
// coordinator and participant cores of package twopc; it is a pure state
// machine like them.
type Client struct {
	cfg     ClientConfig
	pending map[txn.ID]*request
	out     []txn.Envelope[Message]
}

type request struct {
	value   txn.Outcome
	attempt int
	wait    int
}

// NewClient returns a client with nothing pending.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, pending: map[txn.ID]*request{}}, nil
}

// Propose asks the register to decide t, proposing v. A second Propose
// while t is pending keeps the first value. The answer comes back through
// Step.
func (c *Client) Propose(t txn.ID, v txn.Outcome) error {
	if !v.Valid() || t == 0 {
		return fmt.Errorf("%w: propose t%d %s", txn.ErrInvalidMessage, t, v)
	}
	if _, ok := c.pending[t]; ok {
		return nil
	}
	if len(c.pending) >= c.cfg.MaxPending {
		return fmt.Errorf("%w: %d register proposals pending", txn.ErrTooManyTxns, len(c.pending))
	}
	r := &request{value: v}
	c.pending[t] = r
	c.send(t, r)
	return nil
}

// Step takes a message from a replica and returns the decision it carries.
// A decision for a transaction that is no longer pending is returned too:
// it is still the register's value.
func (c *Client) Step(m Message) (txn.Decided, error) {
	if err := m.validate(); err != nil {
		return txn.Decided{}, err
	}
	if m.Type != MsgDecided {
		return txn.Decided{}, fmt.Errorf("%w: a client does not take %s", txn.ErrInvalidMessage, m)
	}
	delete(c.pending, m.Txn)
	return txn.Decided{Txn: m.Txn, Outcome: m.Value}, nil
}

// Tick resends the proposals that waited RetryTicks, each to the next
// replica.
func (c *Client) Tick() {
	for _, t := range slices.Sorted(maps.Keys(c.pending)) {
		r := c.pending[t]
		r.wait--
		if r.wait <= 0 {
			r.attempt++
			c.send(t, r)
		}
	}
}

// TakeMessages returns the messages to send and forgets them.
func (c *Client) TakeMessages() []txn.Envelope[Message] {
	out := c.out
	c.out = nil
	return out
}

func (c *Client) send(t txn.ID, r *request) {
	n := len(c.cfg.Replicas)
	to := c.cfg.Replicas[(int(uint64(t)%uint64(n))+r.attempt)%n]
	r.wait = c.cfg.RetryTicks
	c.out = append(c.out, txn.Envelope[Message]{To: to, Msg: Message{Type: MsgPropose, Txn: t, Value: r.value}})
}
