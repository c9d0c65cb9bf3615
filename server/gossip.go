package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/gossipnet"
	"github.com/cairndb/cairn/transport"
)

// This file wires SWIM membership (package gossipnet) into a node: the
// gossip id is the member's Raft id (MemberID), the seeds are the other
// initial members' peer addresses, datagrams use UDP on the peer port
// number and push-pulls the peer gRPC server, and the metadata tells the
// eventual tier where each node serves.

// GossipMeta is the metadata each node advertises in gossip, as JSON.
// The eventual tier's ring reads it to reach a member's RESP and HTTP
// addresses.
type GossipMeta struct {
	// Name is the member's --name.
	Name string `json:"name"`
	// ClientURLs are its --advertise-client-urls.
	ClientURLs []string `json:"client_urls"`
	// HTTP is its --listen-http address.
	HTTP string `json:"http"`
	// Redis is its --listen-redis address.
	Redis string `json:"redis"`
	// Zone is its --zone: the eventual tier places a key's replicas in
	// distinct zones first.
	Zone string `json:"zone,omitempty"`
}

// ParseGossipMeta decodes a member's gossip metadata.
func ParseGossipMeta(meta string) (GossipMeta, error) {
	var m GossipMeta
	err := json.Unmarshal([]byte(meta), &m)
	return m, err
}

// gossipIncarnationFile holds the node's last gossip incarnation in its
// data dir, as decimal text.
const gossipIncarnationFile = "gossip-incarnation"

// Gossip returns the node's membership driver (for the eventual tier and
// tests).
func (n *Node) Gossip() *gossipnet.Driver { return n.gossip }

// startGossip starts the membership driver and registers its push-pull
// service on the peer server, which must not serve yet.
func (n *Node) startGossip(peerSrv *grpc.Server, reg prometheus.Registerer, memberID uint64, faults *transport.Faults) error {
	cfg := n.cfg
	fs := cfg.FS
	if fs == nil {
		fs = vfs.Default
	}
	last, err := loadIncarnation(fs, cfg.DataDir)
	if err != nil {
		return err
	}
	var clientURLs []string
	for _, u := range cfg.AdvertiseClientURLs {
		clientURLs = append(clientURLs, u.String())
	}
	meta, err := json.Marshal(GossipMeta{Name: cfg.Name, ClientURLs: clientURLs, HTTP: cfg.ListenHTTP, Redis: cfg.ListenRedis, Zone: cfg.Zone})
	if err != nil {
		return err
	}
	g := gossipnet.DefaultConfig().WithProbeInterval(cfg.GossipInterval)
	if len(meta) > g.Core.MaxMetaBytes {
		return fmt.Errorf("gossip metadata of %d bytes (name, client URLs, HTTP and Redis addresses) over %d", len(meta), g.Core.MaxMetaBytes)
	}
	g.Core.ID = gossip.NodeID(memberID)
	// The advertised address is the first peer URL in sorted order, as
	// the other members list it in their seeds.
	g.Core.Addr = firstHost(cfg.InitialAdvertisePeerURLs)
	g.Core.Meta = meta
	g.Core.LastIncarnation = last
	g.Core.SuspicionMult = cfg.GossipSuspicionMult
	g.ListenAddr = cfg.ListenPeerURLs[0].Host
	for _, m := range cfg.InitialMembers() {
		if m.ID != memberID && len(m.PeerURLs) > 0 {
			if u, err := url.Parse(m.PeerURLs[0]); err == nil {
				g.Seeds = append(g.Seeds, gossip.Seed{ID: gossip.NodeID(m.ID), Addr: u.Host})
			}
		}
	}
	g.Persist = func(inc uint64) error { return storeIncarnation(fs, cfg.DataDir, inc) }
	g.Faults = faults
	g.Registerer = reg
	g.Logger = n.log.With("component", "gossip")
	if n.gossip, err = gossipnet.New(g); err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	n.gossip.Register(peerSrv)
	return nil
}

// firstHost returns the host:port of the first URL in sorted order.
func firstHost(us []url.URL) string {
	s := sortedURLs(us)
	if len(s) == 0 {
		return ""
	}
	u, err := url.Parse(s[0])
	if err != nil {
		return ""
	}
	return u.Host
}

// leaveGossip starts leaving the gossip cluster and returns a channel
// closed when the leave has lingered (gossipnet.Config.LeaveLinger), so
// that Close can stop the other components meanwhile.
func (n *Node) leaveGossip() <-chan struct{} {
	done := make(chan struct{})
	if n.gossip == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.gossip.Leave(ctx); err != nil {
			n.log.Warn("gossip: leave", "err", err)
		}
	}()
	return done
}

// stopGossip waits for the leave to linger, then stops the driver.
func (n *Node) stopGossip(left <-chan struct{}) {
	if n.gossip == nil {
		return
	}
	<-left
	_ = n.gossip.Close()
}

// memberJSON is one row of /members.
type memberJSON struct {
	ID          uint64      `json:"id"`
	Name        string      `json:"name"`
	Addr        string      `json:"addr"`
	State       string      `json:"state"`
	Incarnation uint64      `json:"incarnation"`
	Phi         float64     `json:"phi"`
	Self        bool        `json:"self,omitempty"`
	Meta        *GossipMeta `json:"meta,omitempty"`
	// MetaRaw is metadata that is not a GossipMeta (another version).
	MetaRaw string `json:"meta_raw,omitempty"`
}

// membersHandler serves /members: this node's gossip view of every
// member, sorted by id, as a JSON list.
func (n *Node) membersHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		ms, err := n.gossip.Members()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		out := make([]memberJSON, 0, len(ms))
		for _, m := range ms {
			j := memberJSON{ID: uint64(m.ID), Addr: m.Addr, State: m.State.String(), Incarnation: m.Incarnation,
				Phi: m.Phi, Self: m.ID == n.gossip.ID()}
			if math.IsNaN(j.Phi) || math.IsInf(j.Phi, 0) {
				j.Phi = math.MaxFloat64 // JSON has no infinity; the detector never returns one
			}
			if meta, err := ParseGossipMeta(m.Meta); err == nil {
				j.Name, j.Meta = meta.Name, &meta
			} else {
				j.MetaRaw = m.Meta
			}
			out = append(out, j)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// loadIncarnation reads the last persisted gossip incarnation; 0 when
// the node never gossiped.
func loadIncarnation(fs vfs.FS, dir string) (uint64, error) {
	f, err := fs.Open(filepath.Join(dir, gossipIncarnationFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("gossip incarnation: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return 0, fmt.Errorf("gossip incarnation: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("gossip incarnation file %s is corrupt (%q): remove it to rejoin as a new incarnation: %w",
			filepath.Join(dir, gossipIncarnationFile), b, err)
	}
	return v, nil
}

// storeIncarnation persists inc atomically: write a temporary file, sync
// it, rename it over the old one, sync the directory. A power cut leaves
// the old value or the new one, never a torn one.
func storeIncarnation(fs vfs.FS, dir string, inc uint64) error {
	path := filepath.Join(dir, gossipIncarnationFile)
	tmp := path + ".tmp"
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(strconv.FormatUint(inc, 10) + "\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return err
	}
	return syncDirs(fs, dir)
}
