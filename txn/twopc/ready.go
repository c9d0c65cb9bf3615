package twopc

import (
	"github.com/cairndb/cairn/txn"
	"github.com/cairndb/cairn/txn/decision"
)

// Ready is a core's output: the txn.Ready contract (records, sync, then
// messages, then decisions and vote requests), plus the messages to the
// decision register, which are sent with the other messages in step 2.
type Ready struct {
	txn.Ready[Message]
	// Register holds proposals to the decision register (with
	// Config.Registers only).
	Register []txn.Envelope[decision.Message]
}

// IsEmpty reports whether rd asks for nothing.
func (rd *Ready) IsEmpty() bool { return rd.Ready.IsEmpty() && len(rd.Register) == 0 }
