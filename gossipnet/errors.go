package gossipnet

import "errors"

// ErrClosed is returned by the Driver's methods after Close.
var ErrClosed = errors.New("gossipnet: driver closed")

// ErrBusy is returned when the protocol loop did not take a request within
// Config.ControlTimeout (the loop is stalled), or when every subscriber
// slot is taken.
var ErrBusy = errors.New("gossipnet: busy")
