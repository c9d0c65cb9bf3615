// Package tools holds the scripts that fetch the real clients the
// compatibility tests run (etcd's etcdctl, built from the module proxy by
// build-etcdctl.sh). It has no Go code of its own.
package tools
