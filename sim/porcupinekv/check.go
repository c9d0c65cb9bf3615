package porcupinekv

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// maxReportOps bounds how many operations of the failing key a report
// lists.
const maxReportOps = 40

// CheckLinearizable checks a history against Model. It returns true if the
// history is linearizable. Otherwise the details name the keys whose
// sub-history is not, and list the first failing key's operations and the
// longest prefix the checker could linearize. A check that does not finish
// within timeout (which must be > 0) counts as a failure, as in etcd's
// robustness tests. If htmlPath is not empty and the check fails,
// Porcupine's interactive visualization is written there.
func CheckLinearizable(history []porcupine.Operation, timeout time.Duration, htmlPath string) (ok bool, details string) {
	if timeout <= 0 {
		panic(fmt.Sprintf("porcupinekv: CheckLinearizable timeout = %v, want > 0", timeout))
	}
	res, info := porcupine.CheckOperationsVerbose(Model, history, timeout)
	keys := len(partitionOps(history))
	if res == porcupine.Ok {
		return true, fmt.Sprintf("linearizable: %d ops on %d keys", len(history), keys)
	}
	var b strings.Builder
	if res == porcupine.Unknown {
		fmt.Fprintf(&b, "linearizability check timed out after %v (%d ops on %d keys): result unknown", timeout, len(history), keys)
	} else {
		fmt.Fprintf(&b, "NOT linearizable: %d ops on %d keys", len(history), keys)
		describeFailure(&b, history, timeout)
	}
	if htmlPath != "" {
		if err := porcupine.VisualizePath(Model, info, htmlPath); err != nil {
			fmt.Fprintf(&b, "\n(writing visualization %s failed: %v)", htmlPath, err)
		} else {
			fmt.Fprintf(&b, "\nvisualization: %s", htmlPath)
		}
	}
	return false, b.String()
}

// describeFailure checks each key on its own to name the failing ones and
// prints the first failing key's operations.
func describeFailure(b *strings.Builder, history []porcupine.Operation, timeout time.Duration) {
	single := Model
	single.Partition, single.PartitionEvent = nil, nil
	var bad [][]porcupine.Operation
	var badKeys []string
	for _, part := range partitionOps(history) {
		if porcupine.CheckOperationsTimeout(single, part, timeout) == porcupine.Illegal {
			bad = append(bad, part)
			badKeys = append(badKeys, fmt.Sprintf("%q", part[0].Input.(Input).Key))
		}
	}
	if len(bad) == 0 {
		return
	}
	fmt.Fprintf(b, "; failing keys: %s", strings.Join(badKeys, ", "))
	part := slices.Clone(bad[0])
	slices.SortStableFunc(part, func(x, y porcupine.Operation) int { return cmp.Compare(x.Call, y.Call) })
	end := int64(0)
	for _, op := range part {
		end = max(end, op.Return)
	}
	fmt.Fprintf(b, "\nkey %s, %d ops by call time:", badKeys[0], len(part))
	for i, op := range part {
		if i == maxReportOps {
			fmt.Fprintf(b, "\n  ... %d more", len(part)-i)
			break
		}
		ret := time.Duration(op.Return).String()
		if op.Output.(Output).Unknown {
			ret = "end"
		}
		fmt.Fprintf(b, "\n  client %d [%v, %s] %s", op.ClientId, time.Duration(op.Call), ret,
			describe(op.Input.(Input), op.Output.(Output)))
	}
	_, info := porcupine.CheckOperationsVerbose(single, part, timeout)
	longest := []porcupine.Operation(nil)
	for _, partials := range info.PartialLinearizationsOperations() {
		for _, lin := range partials {
			if len(lin) > len(longest) {
				longest = lin
			}
		}
	}
	fmt.Fprintf(b, "\nlongest linearizable prefix (%d of %d ops):", len(longest), len(part))
	for _, op := range longest {
		fmt.Fprintf(b, "\n  %s", describe(op.Input.(Input), op.Output.(Output)))
	}
}
