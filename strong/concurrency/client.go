package concurrency

import (
	"fmt"
	"net"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// NewLocalClient returns a client of the node's own etcd API at addr (a
// bound client listener, "host:port"), for Config.Client. It connects
// lazily, so it can be made before the node serves or has a leader; an
// unspecified listen address (0.0.0.0, ::) is reached over loopback.
func NewLocalClient(addr string) (*clientv3.Client, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("concurrency: local client address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{net.JoinHostPort(host, port)},
		// No DialTimeout: the dial is lazy and New does not wait for it.
		// The client's own log would repeat, in zap, what the services
		// report through their gRPC errors.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("concurrency: local client: %w", err)
	}
	return cli, nil
}
