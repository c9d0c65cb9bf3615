package saga

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Client starts, reads, waits for and repairs sagas. It needs no
// definitions: the steps run in the executors that registered them. A
// Client is safe for concurrent use.
type Client struct {
	cli  *clientv3.Client
	cfg  ClientConfig
	keys keyspace
}

// NewClient returns a client over an etcd API client connected to a
// cairn cluster (or to etcd: the saga log needs only the etcd v3 API).
func NewClient(cli *clientv3.Client, cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cli: cli, cfg: cfg, keys: keyspace{prefix: cfg.Prefix}}, nil
}

// Saga is one saga as read from the log at one revision.
type Saga struct {
	// ID and Definition name the saga.
	ID         string
	Definition string
	// Status is where the saga is.
	Status Status
	// Error says why the saga compensates or failed ("" while all is well).
	Error string
	// Steps holds one record per step in definition order (StepPending
	// where a step has not begun). Empty while the saga is pending: the
	// step list is fixed by the first executor that runs it. Nil in the
	// results of List.
	Steps []StepRecord
	// Input is the input payload (nil in the results of List).
	Input []byte
	// Owner is the ID of the executor that owns the saga now ("" if none)
	// and OwnerLease the lease that holds its ownership.
	Owner      string
	OwnerLease int64
	// LastExecutor is the executor that last changed the status.
	LastExecutor string
	// Resolution is an operator's note (Retry, Resolve).
	Resolution string
	// Created and Updated are the writers' clock readings.
	Created, Updated time.Time
	// Revision is the store revision the saga was read at.
	Revision int64
}

// snapshot is a saga's keys read in one read-only Txn.
type snapshot struct {
	st         *stateRecord
	stateRev   int64 // mod revision of the state key
	input      []byte
	steps      map[int]*StepRecord
	ownerID    string
	ownerRev   int64 // create revision of the owner key; 0 if none
	ownerLease int64
	rev        int64
}

func (c *Client) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}

// read reads every key of saga id at one revision. It returns ErrNotFound
// when the saga has no state record.
func (c *Client) read(ctx context.Context, id string) (*snapshot, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	resp, err := c.cli.Txn(ctx).Then(
		clientv3.OpGet(c.keys.state(id)),
		clientv3.OpGet(c.keys.input(id)),
		clientv3.OpGet(c.keys.steps(id), clientv3.WithPrefix(), clientv3.WithLimit(maxStepsHard+1)),
		clientv3.OpGet(c.keys.owner(id)),
	).Commit()
	if err != nil {
		return nil, err
	}
	r := resp.Responses
	if len(r) != 4 {
		return nil, fmt.Errorf("%w: read of saga %s returned %d responses", ErrCorrupt, id, len(r))
	}
	stKVs := r[0].GetResponseRange().Kvs
	if len(stKVs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	st, err := decodeState(stKVs[0].Value)
	if err != nil {
		return nil, fmt.Errorf("saga %s: %w", id, err)
	}
	if st.ID != id {
		return nil, fmt.Errorf("%w: state record of %s names %s", ErrCorrupt, id, st.ID)
	}
	snap := &snapshot{st: st, stateRev: stKVs[0].ModRevision, steps: map[int]*StepRecord{}, rev: resp.Header.Revision}
	if kvs := r[1].GetResponseRange().Kvs; len(kvs) > 0 {
		snap.input = kvs[0].Value
	}
	for _, kv := range r[2].GetResponseRange().Kvs {
		i, ok := c.keys.stepIndex(id, string(kv.Key))
		if !ok || i >= len(st.Steps) {
			return nil, fmt.Errorf("%w: stray step key %q", ErrCorrupt, kv.Key)
		}
		rec, err := decodeStep(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("saga %s step %d: %w", id, i, err)
		}
		if rec.Name != st.Steps[i] {
			return nil, fmt.Errorf("%w: saga %s step %d is %q in its record, %q in the saga", ErrCorrupt, id, i, rec.Name, st.Steps[i])
		}
		snap.steps[i] = rec
	}
	if kvs := r[3].GetResponseRange().Kvs; len(kvs) > 0 {
		snap.ownerID, snap.ownerRev, snap.ownerLease = string(kvs[0].Value), kvs[0].CreateRevision, kvs[0].Lease
	}
	return snap, nil
}

// stepList returns one record per step, StepPending where none exists.
func (s *snapshot) stepList() []StepRecord {
	out := make([]StepRecord, len(s.st.Steps))
	for i, name := range s.st.Steps {
		if r, ok := s.steps[i]; ok {
			out[i] = *r
		} else {
			out[i] = StepRecord{Name: name, Status: StepPending}
		}
	}
	return out
}

func (s *snapshot) saga() *Saga {
	return &Saga{
		ID: s.st.ID, Definition: s.st.Definition, Status: s.st.Status, Error: s.st.Error,
		Steps: s.stepList(), Input: s.input, Owner: s.ownerID, OwnerLease: s.ownerLease,
		LastExecutor: s.st.Executor, Resolution: s.st.Resolution,
		Created: s.st.Created, Updated: s.st.Updated, Revision: s.rev,
	}
}

// Start creates saga id of the named definition with the input payload,
// pending until an executor that registered the definition takes it. It
// is idempotent by ID: starting an existing saga with the same definition
// and input does nothing and returns created false; with another
// definition or input it fails with ErrConflict.
func (c *Client) Start(ctx context.Context, definition, id string, input []byte) (created bool, err error) {
	if err := c.checkStart(definition, id, input); err != nil {
		return false, err
	}
	created, _, err = c.create(ctx, definition, id, input, "")
	return created, err
}

func (c *Client) checkStart(definition, id string, input []byte) error {
	if err := validID(id); err != nil {
		return err
	}
	if err := validName(definition); err != nil {
		return fmt.Errorf("definition: %w", err)
	}
	if len(input) > c.cfg.MaxInputBytes {
		return fmt.Errorf("%w: input of %d bytes, the bound is %d (MaxInputBytes)", ErrTooLarge, len(input), c.cfg.MaxInputBytes)
	}
	return nil
}

// create writes a new pending saga in one Txn, and with owner != nil also
// its owner key on the given lease. It returns the revision of the write
// (the owner key's create revision) when it created the saga.
func (c *Client) create(ctx context.Context, definition, id string, input []byte, owner string, ownerOps ...clientv3.Op) (created bool, rev int64, err error) {
	now := time.Now().UTC()
	st := &stateRecord{ID: id, Definition: definition, Status: StatusPending, Executor: owner, Created: now, Updated: now}
	then := []clientv3.Op{
		clientv3.OpPut(c.keys.state(id), string(encodeState(st))),
		clientv3.OpPut(c.keys.input(id), string(input)),
		clientv3.OpPut(c.keys.active(id), definition),
	}
	then = append(then, ownerOps...)
	tctx, cancel := c.timeout(ctx)
	defer cancel()
	resp, err := c.cli.Txn(tctx).
		If(clientv3.Compare(clientv3.CreateRevision(c.keys.state(id)), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(c.keys.owner(id)), "=", 0)).
		Then(then...).
		Else(clientv3.OpGet(c.keys.state(id)), clientv3.OpGet(c.keys.input(id))).
		Commit()
	if err != nil {
		return false, 0, err
	}
	if resp.Succeeded {
		return true, resp.Header.Revision, nil
	}
	// The ID is taken: the same request again is fine, another is not.
	stKVs := resp.Responses[0].GetResponseRange().Kvs
	if len(stKVs) == 0 {
		// An owner key without a state: a purge raced with us. Let the
		// caller try again.
		return false, 0, fmt.Errorf("%w: saga %s is being purged", ErrConflict, id)
	}
	old, err := decodeState(stKVs[0].Value)
	if err != nil {
		return false, 0, err
	}
	var oldInput []byte
	if kvs := resp.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
		oldInput = kvs[0].Value
	}
	if old.Definition != definition || !bytes.Equal(oldInput, input) {
		return false, 0, fmt.Errorf("%w: %s is a %s saga with a %d-byte input", ErrConflict, id, old.Definition, len(oldInput))
	}
	return false, 0, nil
}

// Get reads saga id; ErrNotFound if it does not exist.
func (c *Client) Get(ctx context.Context, id string) (*Saga, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	s, err := c.read(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.saga(), nil
}

// ListOptions selects the sagas List returns.
type ListOptions struct {
	// Status keeps only sagas in that status; zero keeps all.
	Status Status
	// After starts the listing after this saga ID (the Next of a previous
	// page); "" starts at the beginning.
	After string
	// Limit bounds the sagas returned; zero or less takes
	// ClientConfig.ListPageSize, and it is capped there.
	Limit int
}

// List returns sagas in ID order (without steps and input) and the ID to
// pass as After for the next page ("" at the end). Filtering by status
// reads every saga it skips: a page costs up to a few range requests of
// ListPageSize keys each.
func (c *Client) List(ctx context.Context, opt ListOptions) (sagas []Saga, next string, err error) {
	limit := opt.Limit
	if limit <= 0 || limit > c.cfg.ListPageSize {
		limit = c.cfg.ListPageSize
	}
	prefix := c.keys.statePrefix()
	from := prefix
	if opt.After != "" {
		from = prefix + opt.After + "\x00"
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	var rev int64
	for len(sagas) < limit {
		rctx, cancel := c.timeout(ctx)
		ops := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(c.cfg.ListPageSize))}
		if rev != 0 {
			ops = append(ops, clientv3.WithRev(rev))
		}
		resp, err := c.cli.Get(rctx, from, ops...)
		cancel()
		if err != nil {
			return nil, "", err
		}
		rev = resp.Header.Revision
		for i, kv := range resp.Kvs {
			st, err := decodeState(kv.Value)
			if err != nil {
				return nil, "", fmt.Errorf("key %q: %w", kv.Key, err)
			}
			if opt.Status == 0 || st.Status == opt.Status {
				sagas = append(sagas, Saga{ID: st.ID, Definition: st.Definition, Status: st.Status, Error: st.Error,
					LastExecutor: st.Executor, Resolution: st.Resolution, Created: st.Created, Updated: st.Updated, Revision: rev})
			}
			if len(sagas) == limit {
				if i < len(resp.Kvs)-1 || resp.More {
					next = st.ID
				}
				return sagas, next, nil
			}
		}
		if !resp.More {
			return sagas, "", nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	return sagas, next, nil
}

// Wait blocks until saga id is terminal (completed, compensated,
// compensation_failed or resolved) or ctx ends, and returns it. It
// watches the saga's state record, so it costs no polling.
func (c *Client) Wait(ctx context.Context, id string) (*Saga, error) {
	for {
		s, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if s.Status.Terminal() {
			return s, nil
		}
		if err := c.waitChange(ctx, c.keys.state(id), s.Revision+1); err != nil {
			return nil, err
		}
	}
}

// waitChange returns when key changes at or after rev, when the watch
// breaks (the caller reads again), or with ctx's error.
func (c *Client) waitChange(ctx context.Context, key string, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := c.cli.Watch(wctx, key, clientv3.WithRev(rev))
	select {
	case <-wch:
		// An event, an error (compaction, lost leader) or a closed
		// channel: in every case read again.
	case <-ctx.Done():
		return ctx.Err()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// Retry sends a compensation_failed saga back to compensating, with the
// attempt counters of its failed compensations reset, for an operator who
// fixed what made them fail. Any executor with the definition picks it
// up.
func (c *Client) Retry(ctx context.Context, id, note string) error {
	s, err := c.read(ctx, id)
	if err != nil {
		return err
	}
	if s.st.Status != StatusCompensationFailed {
		return fmt.Errorf("%w: %s is %s, Retry needs %s", ErrWrongStatus, id, s.st.Status, StatusCompensationFailed)
	}
	st := *s.st
	st.Status, st.Resolution, st.Updated = StatusCompensating, truncate(note, DefaultMaxErrorBytes), time.Now().UTC()
	ops := []clientv3.Op{
		clientv3.OpPut(c.keys.state(id), string(encodeState(&st))),
		clientv3.OpPut(c.keys.active(id), st.Definition),
	}
	idx := make([]int, 0, len(s.steps))
	for i := range s.steps {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		if r := *s.steps[i]; r.Status == StepCompensationFailed {
			r.CompensationAttempts = 0
			ops = append(ops, clientv3.OpPut(c.keys.step(id, i), string(encodeStep(&r))))
		}
	}
	return c.casState(ctx, id, s.stateRev, ops...)
}

// Resolve closes a compensation_failed saga for an operator who undid
// its effects by hand; note says what was done.
func (c *Client) Resolve(ctx context.Context, id, note string) error {
	s, err := c.read(ctx, id)
	if err != nil {
		return err
	}
	if s.st.Status != StatusCompensationFailed {
		return fmt.Errorf("%w: %s is %s, Resolve needs %s", ErrWrongStatus, id, s.st.Status, StatusCompensationFailed)
	}
	st := *s.st
	st.Status, st.Resolution, st.Updated = StatusResolved, truncate(note, DefaultMaxErrorBytes), time.Now().UTC()
	return c.casState(ctx, id, s.stateRev, clientv3.OpPut(c.keys.state(id), string(encodeState(&st))))
}

// Purge deletes every key of a terminal saga (retention is the
// operator's: the log keeps finished sagas until purged). Purging a
// missing saga is a no-op.
func (c *Client) Purge(ctx context.Context, id string) error {
	s, err := c.read(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return err
	}
	if !s.st.Status.Terminal() {
		return fmt.Errorf("%w: %s is %s, Purge needs a terminal saga", ErrWrongStatus, id, s.st.Status)
	}
	return c.casState(ctx, id, s.stateRev,
		clientv3.OpDelete(c.keys.state(id)),
		clientv3.OpDelete(c.keys.input(id)),
		clientv3.OpDelete(c.keys.steps(id), clientv3.WithPrefix()))
}

// casState applies ops if the state record is still at stateRev and no
// executor owns the saga.
func (c *Client) casState(ctx context.Context, id string, stateRev int64, ops ...clientv3.Op) error {
	tctx, cancel := c.timeout(ctx)
	defer cancel()
	resp, err := c.cli.Txn(tctx).
		If(clientv3.Compare(clientv3.ModRevision(c.keys.state(id)), "=", stateRev),
			clientv3.Compare(clientv3.CreateRevision(c.keys.owner(id)), "=", 0)).
		Then(ops...).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("%w: %s changed meanwhile; read it again", ErrWrongStatus, id)
	}
	return nil
}
