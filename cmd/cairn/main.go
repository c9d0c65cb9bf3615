// Command cairn is the single binary of the cairn database: the server, a
// local development cluster, client tools, the benchmark and the verifier.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(1)
	}
}
