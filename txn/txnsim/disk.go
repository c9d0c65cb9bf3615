package txnsim

import (
	"fmt"

	"github.com/cairndb/cairn/sim"
	"github.com/cairndb/cairn/txn"
)

// logFile is the one log every simulated node keeps on its disk.
const logFile = "txn.log"

// loadLog decodes the records that survived on h's disk.
func loadLog(h *sim.Host[msg]) ([]txn.Record, error) {
	var recs []txn.Record
	for i, b := range h.Disk().Records(logFile) {
		r, err := txn.UnmarshalRecord(b)
		if err != nil {
			return nil, fmt.Errorf("n%d: log record %d: %w", h.ID(), i, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// persist appends recs to h's log and syncs it if sync: step 1 of the
// txn.Ready contract.
func persist(h *sim.Host[msg], recs []txn.Record, sync bool) error {
	d := h.Disk()
	for _, r := range recs {
		b, err := r.MarshalBinary()
		if err != nil {
			return fmt.Errorf("n%d: %w", h.ID(), err)
		}
		d.Append(logFile, b)
	}
	if sync {
		d.Sync(logFile)
	}
	return nil
}
