package transport

import (
	"testing"
	"time"

	"google.golang.org/grpc"
)

// TestChannelsShareAServerApart runs two transports per node on one gRPC
// server, on distinct channels: each delivers only its own frames.
func TestChannelsShareAServerApart(t *testing.T) {
	a := startNode(t, 1, "127.0.0.1:0", nil)

	// Node 3 serves two transports, the default channel and "eventual",
	// on one gRPC server.
	recRaft, recEv := newRecorder(), newRecorder()
	cfgRaft, cfgEv := testConfig(3, recRaft), testConfig(3, recEv)
	cfgEv.Channel = "eventual"
	raftTr, err := New(cfgRaft)
	if err != nil {
		t.Fatal(err)
	}
	evTr, err := New(cfgEv)
	if err != nil {
		t.Fatal(err)
	}
	lis := listen(t, "127.0.0.1:0")
	srv := grpc.NewServer(raftTr.ServerOptions()...)
	raftTr.Register(srv)
	evTr.Register(srv)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = raftTr.Close(); _ = evTr.Close(); srv.Stop(); <-done })

	// Node 1 sends on the default channel, node 2 on "eventual" (9 and 19
	// frames: sendAll's range is half-open).
	if err := a.tr.AddPeer(3, lis.Addr().String()); err != nil {
		t.Fatal(err)
	}
	evCfg := testConfig(2, newRecorder())
	evCfg.Channel = "eventual"
	evSender, err := New(evCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = evSender.Close() })
	if err := evSender.AddPeer(3, lis.Addr().String()); err != nil {
		t.Fatal(err)
	}
	sendAll(t, a.tr, 3, 1, 10, 16)
	sendAll(t, evSender, 3, 1, 20, 16)
	waitFor(t, 10*time.Second, "frames on both channels", func() bool {
		return recRaft.count(1) == 9 && recEv.count(2) == 19
	})
	time.Sleep(50 * time.Millisecond)
	if recRaft.count(2) != 0 || recEv.count(1) != 0 {
		t.Fatalf("frames crossed channels: raft got %d from the eventual sender, eventual got %d from the raft sender",
			recRaft.count(2), recEv.count(1))
	}
}

func TestChannelNameValidated(t *testing.T) {
	cfg := testConfig(1, newRecorder())
	cfg.Channel = "Bad/Name"
	if _, err := New(cfg); err == nil {
		t.Fatal("a channel name with '/' was accepted")
	}
}
