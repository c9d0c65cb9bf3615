package gossip

// Stats are a node's counters since New, for the driver's metrics.
type Stats struct {
	// MessagesSent and MessagesReceived count messages of every kind.
	MessagesSent, MessagesReceived uint64
	// MessagesDropped counts sends refused at MaxPendingMessages.
	MessagesDropped uint64
	// ProbesSent, ProbesAcked and ProbesFailed count this node's probes;
	// IndirectProbes counts those that needed helpers.
	ProbesSent, ProbesAcked, ProbesFailed, IndirectProbes uint64
	// NacksSent and NacksReceived count Lifeguard nacks.
	NacksSent, NacksReceived uint64
	// SuspicionsRaised counts members this node suspected after a failed
	// probe; DeadDeclared counts suspicions whose timer ran out here.
	SuspicionsRaised, DeadDeclared uint64
	// Refutations counts the times this node raised its incarnation to
	// deny news about itself.
	Refutations uint64
	// PushPullsSent counts full-state exchanges started (anti-entropy,
	// joins, reconnections); PushPullsRefused counts those not answered
	// for MaxPushPullRepliesPerTick; Reconnects counts those sent to dead
	// members.
	PushPullsSent, PushPullsRefused, Reconnects uint64
	// MembersRefused counts new members ignored at MaxMembers;
	// RelaysRefused counts ping-reqs ignored at MaxPendingRelays;
	// Misdirected counts pings meant for another node.
	MembersRefused, RelaysRefused, Misdirected uint64
	// UpdatesDropped counts updates dropped from the piggyback queue at
	// MaxQueuedUpdates before they were sent enough times.
	UpdatesDropped uint64
}
