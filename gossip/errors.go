package gossip

import "errors"

// ErrConfigInvalid wraps every error of Config.Validate.
var ErrConfigInvalid = errors.New("gossip: invalid config")

// ErrMalformed wraps every decoding error: the bytes are not a message this
// version can read, or they break a limit.
var ErrMalformed = errors.New("gossip: malformed message")

// ErrInvalidMessage wraps the errors of Step for a message that decodes but
// makes no sense (no sender, an unknown kind, a limit broken).
var ErrInvalidMessage = errors.New("gossip: invalid message")

// ErrMetaTooLarge is returned by SetMeta for metadata over
// Config.MaxMetaBytes.
var ErrMetaTooLarge = errors.New("gossip: metadata too large")

// ErrLeft is returned by Join and SetMeta after Leave: a node that left
// must be restarted (with a higher incarnation) to rejoin.
var ErrLeft = errors.New("gossip: node has left")

// ErrTooManySeeds is returned by Join for more seeds than maxSeeds.
var ErrTooManySeeds = errors.New("gossip: too many seeds")
