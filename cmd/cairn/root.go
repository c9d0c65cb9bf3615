package main

import "github.com/spf13/cobra"

// newRootCommand builds the command tree. Each subcommand lives in its own
// file and is added here, so this file is the one index of what cairn can do.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "cairn is a distributed key-value database with a strong (etcd v3) and an eventual (Redis) tier",
		Long: `cairn is a distributed key-value database. Each keyspace picks its side of CAP:
a linearizable strong tier replicated with Raft that speaks the etcd v3 API, and an
always-writable eventual tier (leaderless, CRDT values) that speaks the Redis protocol.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newVersionCommand(), newServerCommand(), newDevCommand(), newBenchCommand(), newVerifyCommand())
	return root
}
