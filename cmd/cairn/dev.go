package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNoServerYet is what `cairn dev` says until the node exists: the command
// is the README's first one, so it must fail loudly rather than pretend.
var errNoServerYet = errors.New("the cairn server is not built yet (it arrives with the strong tier); " +
	"today this binary holds the primitives library only: run the tests with `bash .ci/run`")

func newDevCommand() *cobra.Command {
	var nodes int
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Start a local cluster of real server processes on loopback",
		Long: `dev starts --nodes server processes on loopback with the default ports
(client 2379/12379/22379, peer 2380/12380/22380, RESP 6379/16379/26379,
HTTP 8080/18080/28080), prints the endpoints and stops them all on Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if nodes < 1 || nodes > 3 {
				return errors.New("--nodes must be between 1 and 3 (the default port plan has three slots)")
			}
			return errNoServerYet
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of server processes to start (1-3)")
	return cmd
}
