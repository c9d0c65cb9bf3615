package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestPickedPortsAreDistinctBindableAndOutsideTheEphemeralRange: the ports
// can be bound for TCP and UDP, and none is one the kernel could hand an
// outgoing connection.
func TestPickedPortsAreDistinctBindableAndOutsideTheEphemeralRange(t *testing.T) {
	ports, err := Pick(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d returned twice", p)
		}
		seen[p] = true
		if p < Low || p >= EphemeralLow() {
			t.Fatalf("port %d outside [%d, %d)", p, Low, EphemeralLow())
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("tcp %s: %v", addr, err)
		}
		ln.Close()
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatalf("udp %s: %v", addr, err)
		}
		pc.Close()
	}
}

// TestPickSkipsAPortInUse: a port held by a listener is never returned.
func TestPickSkipsAPortInUse(t *testing.T) {
	var held []net.Listener
	defer func() {
		for _, ln := range held {
			ln.Close()
		}
	}()
	busy := map[int]bool{}
	for port := Low; port < Low+200; port++ {
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			held = append(held, ln)
			busy[port] = true
		}
	}
	for range 20 {
		ports, err := Pick(50)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ports {
			if busy[p] {
				t.Fatalf("Pick returned port %d, which is in use", p)
			}
		}
	}
}
