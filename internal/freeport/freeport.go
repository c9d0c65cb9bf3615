package freeport

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Low is the lowest port Pick hands out, above most well-known servers'
// ports; a port in use is skipped anyway.
const Low = 10000

// maxTries bounds the random search.
const maxTries = 10_000

// Pick returns n distinct loopback ports in [Low, EphemeralLow()) that could
// be bound for both TCP and UDP a moment ago (a cairn member's peer port
// carries gossip over UDP).
func Pick(n int) ([]int, error) {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	high := EphemeralLow()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == maxTries {
			return nil, fmt.Errorf("freeport: no %d free loopback ports in [%d, %d) after %d tries", n, Low, high, tries)
		}
		port := Low + rand.IntN(high-Low)
		if slices.Contains(ports, port) {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			ln.Close()
			continue
		}
		held = append(held, ln, pc)
		ports = append(ports, port)
	}
	return ports, nil
}

// EphemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; 32768 by default, or where it cannot be read).
func EphemeralLow() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return fallback
	}
	v, err := strconv.Atoi(fields[0])
	if err != nil || v <= Low+1000 {
		return fallback
	}
	return v
}
