package gossipnet

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/transport"
)

// testLimits are the limits of a node with at most 8 members.
var testLimits = gossip.Limits{MaxDatagramUpdates: 4, MaxStreamUpdates: 8, MaxAddrBytes: 32, MaxMetaBytes: 32}

func table(from, to gossip.NodeID, kind gossip.MsgKind, members int) gossip.Message {
	m := gossip.Message{Kind: kind, From: from, To: to}
	for i := range members {
		m.Updates = append(m.Updates, gossip.Update{Member: gossip.NodeID(100 + i), Incarnation: 1, State: gossip.StateAlive, Addr: "127.0.0.1:9"})
	}
	return m
}

// TestDecodePushPullBounds: the push-pull decoder takes only a push-pull
// of the expected kind, for this node, from the expected peer, within the
// byte bound and the table bound.
func TestDecodePushPullBounds(t *testing.T) {
	ok := gossip.Encode(ptr(table(7, 1, gossip.MsgPushPull, 8)))
	if _, err := decodePushPull(ok, testLimits, len(ok), gossip.MsgPushPull, 1, 0); err != nil {
		t.Fatalf("a valid push-pull: %v", err)
	}
	reply := gossip.Encode(ptr(table(7, 1, gossip.MsgPushPullReply, 2)))
	for _, tc := range []struct {
		name      string
		b         []byte
		max       int
		want      gossip.MsgKind
		from      gossip.NodeID
		misdirect bool
	}{
		{"over the byte bound", ok, len(ok) - 1, gossip.MsgPushPull, 0, false},
		{"over MaxStreamUpdates", gossip.Encode(ptr(table(7, 1, gossip.MsgPushPull, 9))), 1 << 20, gossip.MsgPushPull, 0, false},
		{"a reply where a request is expected", reply, 1 << 20, gossip.MsgPushPull, 0, false},
		{"a datagram kind", gossip.Encode(&gossip.Message{Kind: gossip.MsgPing, From: 7, To: 1}), 1 << 20, gossip.MsgPushPull, 0, false},
		{"for another node", gossip.Encode(ptr(table(7, 2, gossip.MsgPushPull, 1))), 1 << 20, gossip.MsgPushPull, 0, true},
		{"a reply from another member", reply, 1 << 20, gossip.MsgPushPullReply, 8, true},
		{"truncated", ok[:len(ok)-3], 1 << 20, gossip.MsgPushPull, 0, false},
		{"empty", nil, 1 << 20, gossip.MsgPushPull, 0, false},
	} {
		_, err := decodePushPull(tc.b, testLimits, tc.max, tc.want, 1, tc.from)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.misdirect != errors.Is(err, errMisdirected):
			t.Errorf("%s: %v, misdirected should be %v", tc.name, err, tc.misdirect)
		}
	}
	if _, err := decodePushPull(reply, testLimits, 1<<20, gossip.MsgPushPullReply, 1, 7); err != nil {
		t.Errorf("a valid reply: %v", err)
	}
}

// TestDecodeDatagramBounds: datagrams over the byte bound or of a
// push-pull kind are refused.
func TestDecodeDatagramBounds(t *testing.T) {
	ping := gossip.Encode(&gossip.Message{Kind: gossip.MsgPing, From: 2, To: 1, Seq: 3})
	if _, err := decodeDatagram(ping, testLimits, len(ping)); err != nil {
		t.Fatalf("a valid ping: %v", err)
	}
	if _, err := decodeDatagram(ping, testLimits, len(ping)-1); err == nil {
		t.Error("a datagram over the byte bound was accepted")
	}
	pp := gossip.Encode(ptr(table(2, 1, gossip.MsgPushPull, 1)))
	if _, err := decodeDatagram(pp, testLimits, 1<<16); err == nil || !strings.Contains(err.Error(), "datagram") {
		t.Errorf("a push-pull in a datagram: %v", err)
	}
	many := table(2, 1, gossip.MsgGossip, 5) // MaxDatagramUpdates is 4
	if _, err := decodeDatagram(gossip.Encode(&many), testLimits, 1<<16); err == nil {
		t.Error("a datagram over MaxDatagramUpdates was accepted")
	}
}

func ptr[T any](v T) *T { return &v }

// TestPushPullRPC calls the service the way a peer does and checks its
// answers: the table for a valid request (and the caller becomes a
// member), and the documented codes for a misaddressed, malformed,
// oversized or partitioned one.
func TestPushPullRPC(t *testing.T) {
	c := newCluster(t, 2, func(cfg *Config) {
		cfg.MaxPushPullBytes = 2048
		cfg.Core.MaxMembers = 8
	})
	c.waitFor("all alive", c.converged)
	n := c.nodes[0]
	cc, err := grpc.NewClient("passthrough:///"+n.addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	call := func(m *gossip.Message, raw []byte) ([]byte, error) {
		if m != nil {
			raw = gossip.Encode(m)
		}
		var resp rawMessage
		err := cc.Invoke(context.Background(), pushPullMethod, &rawMessage{data: raw}, &resp)
		return resp.data, err
	}

	req := gossip.Message{Kind: gossip.MsgPushPull, From: 99, To: n.id, Updates: []gossip.Update{
		{Member: 99, Incarnation: 1, State: gossip.StateAlive, Addr: "127.0.0.1:9", Meta: "caller"},
	}}
	out, err := call(&req, nil)
	if err != nil {
		t.Fatalf("valid push-pull: %v", err)
	}
	reply, err := decodePushPull(out, n.d.lim, 2048, gossip.MsgPushPullReply, 99, n.id)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if len(reply.Updates) != 3 {
		t.Errorf("reply holds %d members, want 3 (two nodes and the caller): %v", len(reply.Updates), reply.Updates)
	}
	if m, ok := c.view(0, 99); !ok || m.Meta != "caller" {
		t.Errorf("the caller's entry was not merged: %+v %v", m, ok)
	}

	check := func(name string, want codes.Code, m *gossip.Message, raw []byte) {
		t.Helper()
		if _, err := call(m, raw); status.Code(err) != want {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	misaddressed := req
	misaddressed.To = 42
	check("misaddressed", codes.FailedPrecondition, &misaddressed, nil)
	check("garbage", codes.InvalidArgument, nil, []byte{1, 2, 3})
	check("a ping", codes.InvalidArgument, &gossip.Message{Kind: gossip.MsgPing, From: 99, To: n.id}, nil)
	check("over MaxMembers", codes.InvalidArgument, ptr(table(99, n.id, gossip.MsgPushPull, 9)), nil)
	big := req
	big.Updates = append([]gossip.Update(nil), req.Updates...)
	// Entries within every per-entry bound, until the whole is too large.
	big.Updates[0].Meta = strings.Repeat("m", 500)
	for len(gossip.Encode(&big)) <= 2048 {
		big.Updates = append(big.Updates, gossip.Update{Member: gossip.NodeID(200 + len(big.Updates)), Incarnation: 1, State: gossip.StateDead, Meta: strings.Repeat("m", 500)})
	}
	if len(big.Updates) > 8 {
		t.Fatalf("the oversized table has %d entries: it would fail on MaxMembers, not on bytes", len(big.Updates))
	}
	if _, err := call(&big, nil); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "limit 2048") {
		t.Errorf("over MaxPushPullBytes: %v", err)
	}

	n.faults.Partition(99)
	check("partitioned", codes.Unavailable, &req, nil)
	n.faults.Heal()
	if _, err := call(&req, nil); err != nil {
		t.Errorf("after heal: %v", err)
	}
	if v := c.metric(0, "cairn_gossip_push_pulls_total", "direction=inbound", "result=malformed"); v < 4 {
		t.Errorf("malformed push-pulls counted %v, want >= 4", v)
	}
	if v := c.metric(0, "cairn_gossip_push_pulls_total", "direction=inbound", "result=fault"); v != 1 {
		t.Errorf("fault push-pulls counted %v, want 1", v)
	}
}

// TestPushPullFaultOutbound: a node whose outbound rule partitions its
// only seed cannot join; clearing the rule lets it.
func TestPushPullFaultOutbound(t *testing.T) {
	c := newCluster(t, 1, nil)
	c.nodes = append(c.nodes, &tnode{id: 2, store: &store{}, faults: transport.NewFaults(2)})
	c.nodes[1].faults.Partition(1)
	c.start(1)
	c.waitFor("push-pulls refused by the fault", func() (bool, string) {
		v := c.metric(1, "cairn_gossip_push_pulls_total", "direction=outbound", "result=fault")
		return v >= 2, "fewer than 2 join attempts dropped"
	})
	if _, ok := c.view(0, 2); ok {
		t.Fatal("the seed heard of the partitioned joiner")
	}
	c.nodes[1].faults.Heal()
	c.waitFor("joined", c.converged)
}
