package txnsim

import (
	"github.com/cairndb/cairn/txn/decision"
	"github.com/cairndb/cairn/txn/threepc"
	"github.com/cairndb/cairn/txn/twopc"
)

// msgKind says which protocol a simulated message belongs to.
type msgKind uint8

const (
	kindTwoPC msgKind = iota + 1
	kindThreePC
	kindRegister
)

// msg is the simulator's message type: one world carries the commit
// protocol and, in the register variant, the decision register's Paxos.
type msg struct {
	kind    msgKind
	twoPC   twopc.Message
	threePC threepc.Message
	reg     decision.Message
}

func describe(m msg) string {
	switch m.kind {
	case kindTwoPC:
		return m.twoPC.String()
	case kindThreePC:
		return m.threePC.String()
	}
	return m.reg.String()
}
