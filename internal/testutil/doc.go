// Package testutil holds helpers shared by the tests that run real
// processes and real clients: free loopback ports and the path of etcd's
// own etcdctl. It is imported by tests only.
package testutil
