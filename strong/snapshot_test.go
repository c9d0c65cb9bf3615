package strong

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairndb/cairn/raft/raftpb"
	"github.com/cairndb/cairn/storage/raftlog"
)

// TestNoRaftSnapshotPastTheLogEnd: after a snapshot stream installed the
// leader's newer state, the applied index is past the log's last index
// until the entries in between arrive. maybeSnapshot must wait instead of
// asking the log for a snapshot it cannot take (that error stopped a
// restarted member in the kill -9 e2e test).
func TestNoRaftSnapshotPastTheLogEnd(t *testing.T) {
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opts := raftlog.DefaultOptions()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	storage, err := raftlog.Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	var ents []raftpb.Entry
	for i := uint64(1); i <= 10; i++ {
		ents = append(ents, raftpb.Entry{Index: i, Term: 1})
	}
	if err := storage.Save(raftlog.Update{HardState: raftpb.HardState{Term: 1, Commit: 10}, Entries: ents}); err != nil {
		t.Fatal(err)
	}
	n := &raftNode{
		storage:       storage,
		sm:            syncOnlyStateMachine{},
		snapshotCount: 5,
		// The state machine holds the leader's state up to 30; the log
		// ends at 10.
		applied: newAppliedNotifier(30),
		applyc:  make(chan applyTask),
		stopc:   make(chan struct{}),
	}
	defer close(n.stopc)
	go func() { // the apply goroutine, with nothing to apply
		for {
			select {
			case task := <-n.applyc:
				close(task.barrier)
			case <-n.stopc:
				return
			}
		}
	}()
	if err := n.maybeSnapshot(); err != nil {
		t.Fatalf("maybeSnapshot with the state ahead of the log: %v", err)
	}
	if n.snapI != 0 {
		t.Fatalf("snapshot taken at %d while the state machine (30) is ahead of the log (10)", n.snapI)
	}
}

// syncOnlyStateMachine is a StateMachine whose only used method is Sync.
type syncOnlyStateMachine struct{}

func (syncOnlyStateMachine) ConsistentIndex() uint64 { return 0 }
func (syncOnlyStateMachine) Apply(uint64, *etcdserverpb.InternalRaftRequest) (any, error) {
	return nil, errors.New("not used")
}
func (syncOnlyStateMachine) ApplyConfChange(uint64, raftpb.ConfChange, raftpb.ConfState) error {
	return errors.New("not used")
}
func (syncOnlyStateMachine) Sync() error                   { return nil }
func (syncOnlyStateMachine) WriteSnapshot(io.Writer) error { return errors.New("not used") }
func (syncOnlyStateMachine) RestoreSnapshot(io.Reader) error {
	return errors.New("not used")
}
