package raft

import (
	"fmt"
	"strings"

	pb "github.com/cairndb/cairn/raft/raftpb"
)

// DescribeReady formats a Ready for traces, one item per line; f renders
// entry payloads (nil prints them quoted).
func DescribeReady(rd Ready, f pb.EntryFormatter) string {
	var b strings.Builder
	if rd.SoftState != nil {
		fmt.Fprintf(&b, "Lead:%d State:%s\n", rd.SoftState.Lead, rd.SoftState.RaftState)
	}
	if !rd.HardState.IsEmpty() {
		fmt.Fprintf(&b, "HardState %s\n", rd.HardState)
	}
	if rd.MustSync {
		b.WriteString("MustSync\n")
	}
	for _, e := range rd.Entries {
		fmt.Fprintf(&b, "Entry %s\n", pb.DescribeEntry(e, f))
	}
	if !rd.Snapshot.IsEmpty() {
		m := rd.Snapshot.Metadata
		fmt.Fprintf(&b, "Snapshot Index:%d Term:%d ConfState:%s\n", m.Index, m.Term, m.ConfState)
	}
	for _, e := range rd.CommittedEntries {
		fmt.Fprintf(&b, "Apply %s\n", pb.DescribeEntry(e, f))
	}
	for _, rs := range rd.ReadStates {
		fmt.Fprintf(&b, "ReadState Index:%d Ctx:%q\n", rs.Index, rs.RequestCtx)
	}
	for _, m := range rd.Messages {
		fmt.Fprintf(&b, "Send %s\n", pb.DescribeMessage(m, f))
	}
	return b.String()
}
