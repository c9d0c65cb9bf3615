package coord

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cairndb/cairn/eventual/merkle"
	"github.com/cairndb/cairn/eventual/replica"
	"github.com/cairndb/cairn/ring"
)

// Trees keeps one Merkle tree per ring arc this node replicates, in step
// with the store: it is the store's replica.Observer. Create it before the
// store (NewTrees), give it to the store's Config and to the Coordinator's,
// which builds the trees from the store and rebuilds them when the ring
// changes.
//
// Consistency with the store: a write locks its arc's tree before it
// reaches Pebble and updates the tree after, and a (re)build scans an arc
// with the arc locked, so a tree never misses or double-counts a write.
// A ring change retires the old set: it waits for the writes in flight on
// it, then publishes the new set with every arc locked until built.
type Trees struct {
	cfg merkle.Config
	cur atomic.Pointer[treeSet]
}

// treeSet is the trees of one ring: arcs sorted by End.
type treeSet struct {
	rw      sync.RWMutex // writes hold it shared; retiring takes it exclusive
	retired bool
	ring    *ring.Ring
	arcs    []*arcTree
	byRng   map[merkle.Range]*arcTree
}

// arcTree is one arc's tree and its lock.
type arcTree struct {
	mu    sync.Mutex
	arc   ring.TokenRange
	tree  *merkle.Tree
	peers []uint64 // the arc's other replicas
}

// NewTrees returns an empty tree set (no arcs until the Coordinator builds
// them).
func NewTrees(cfg merkle.Config) *Trees {
	t := &Trees{cfg: cfg}
	t.cur.Store(&treeSet{})
	return t
}

var _ replica.Observer = (*Trees)(nil)

// BeginWrite implements replica.Observer.
func (t *Trees) BeginWrite(tok ring.Token) func(key, before, after []byte, ok bool) {
	for {
		set := t.cur.Load()
		set.rw.RLock()
		if set.retired {
			set.rw.RUnlock()
			continue
		}
		a := set.find(tok)
		if a == nil {
			return func([]byte, []byte, []byte, bool) { set.rw.RUnlock() }
		}
		a.mu.Lock()
		return func(key, before, after []byte, ok bool) {
			if ok {
				a.apply(uint64(tok), key, before, after)
			}
			a.mu.Unlock()
			set.rw.RUnlock()
		}
	}
}

// apply moves the tree from before to after for one key. The caller holds
// a.mu.
func (a *arcTree) apply(h uint64, key, before, after []byte) {
	if after == nil { // purged
		if before != nil {
			_ = a.tree.Remove(h, merkle.EntryDigest(key, before))
		}
		return
	}
	next := merkle.EntryDigest(key, after)
	if before == nil {
		_ = a.tree.Add(h, next)
		return
	}
	_ = a.tree.Update(h, merkle.EntryDigest(key, before), next)
}

// find returns the arc holding tok, or nil if this node replicates no arc
// holding it.
func (s *treeSet) find(tok ring.Token) *arcTree {
	if len(s.arcs) == 0 {
		return nil
	}
	i := sort.Search(len(s.arcs), func(i int) bool { return s.arcs[i].arc.End >= tok })
	for _, j := range []int{i % len(s.arcs), (i + 1) % len(s.arcs)} {
		if s.arcs[j].arc.Contains(tok) {
			return s.arcs[j]
		}
	}
	for _, a := range s.arcs { // a wrapping or whole-ring arc
		if a.arc.Contains(tok) {
			return a
		}
	}
	return nil
}

// rebuild replaces the tree set with one for ring r, in which this node
// (self) replicates the arcs RangesFor(self, n), each built from the store.
func (t *Trees) rebuild(r *ring.Ring, self uint64, n int, store *replica.Store) error {
	arcs := r.RangesFor(NodeID(self), n)
	set := &treeSet{ring: r, byRng: map[merkle.Range]*arcTree{}}
	for _, arc := range arcs {
		tree, err := merkle.New(t.cfg, merkle.FromTokenRange(arc))
		if err != nil {
			return err
		}
		a := &arcTree{arc: arc, tree: tree}
		for _, id := range r.AppendReplicasToken(nil, arc.End, n) {
			if v, err := ParseNodeID(id); err == nil && v != self {
				a.peers = append(a.peers, v)
			}
		}
		a.mu.Lock() // until built
		set.arcs = append(set.arcs, a)
		set.byRng[tree.Range()] = a
	}
	sort.Slice(set.arcs, func(i, j int) bool { return set.arcs[i].arc.End < set.arcs[j].arc.End })
	old := t.cur.Load()
	old.rw.Lock()
	old.retired = true
	t.cur.Store(set)
	old.rw.Unlock()
	var firstErr error
	for _, a := range set.arcs {
		err := store.Scan(a.arc, func(e replica.Entry) bool {
			_ = a.tree.Add(uint64(e.Token), merkle.EntryDigest(e.Key, e.Encoded))
			return true
		})
		if err != nil && firstErr == nil {
			firstErr = err
		}
		a.mu.Unlock()
	}
	return firstErr
}

// current returns the live set.
func (t *Trees) current() *treeSet { return t.cur.Load() }
