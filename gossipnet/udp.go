package gossipnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/cairndb/cairn/gossip"
	"github.com/cairndb/cairn/transport"
)

// errStreamOverUDP refuses a push-pull in a datagram: a full table must
// travel over a stream (gossip's HAZARD).
var errStreamOverUDP = errors.New("push-pull kinds never travel in a datagram")

// decodeDatagram parses one received datagram: at most maxBytes, within
// lim, and of a datagram kind. It is the only parsing of untrusted UDP
// input (FuzzDecodeDatagram).
func decodeDatagram(b []byte, lim gossip.Limits, maxBytes int) (gossip.Message, error) {
	if len(b) > maxBytes {
		return gossip.Message{}, fmt.Errorf("%w: datagram of %d bytes, limit %d", gossip.ErrMalformed, len(b), maxBytes)
	}
	m, err := gossip.Decode(b, lim)
	if err != nil {
		return gossip.Message{}, err
	}
	if m.Kind.Stream() {
		return gossip.Message{}, fmt.Errorf("%w: %s: %v", gossip.ErrMalformed, m.Kind, errStreamOverUDP)
	}
	return m, nil
}

// read receives datagrams until the socket closes, decodes them off the
// loop and queues them in the inbox, dropping at its bound.
func (d *Driver) read() {
	defer d.wg.Done()
	// One byte over the bound: a longer datagram is truncated by the
	// kernel to this size, and so recognized as too large.
	buf := make([]byte, d.cfg.Core.MaxMessageBytes+1)
	for {
		n, src, err := d.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.errLog.log(d.log, "read", "gossip: udp read", "err", err)
			select {
			case <-d.stop:
				return
			case <-time.After(10 * time.Millisecond): // do not spin on a persistent error
			}
			continue
		}
		d.receive(buf[:n], src, time.Now())
	}
}

// receive decodes one datagram, applies the inbound fault rule of its
// sender and queues it for the loop.
func (d *Driver) receive(b []byte, src netip.AddrPort, at time.Time) {
	msg, err := decodeDatagram(b, d.lim, d.cfg.Core.MaxMessageBytes)
	if err != nil {
		d.m.dropped.WithLabelValues(reasonMalformed).Inc()
		d.errLog.log(d.log, "malformed", "gossip: malformed datagram", "src", src.String(), "bytes", len(b), "err", err)
		return
	}
	kind := kindLabel(msg.Kind)
	d.m.received.WithLabelValues(kind).Inc()
	d.m.bytesReceived.WithLabelValues(kind).Add(float64(len(b)))
	drop, delay := d.faults.verdict(msg.From, transport.Inbound)
	switch {
	case drop:
		d.m.dropped.WithLabelValues(reasonFault).Inc()
		return
	case delay > 0:
		d.later(delay, func() { d.enqueue(inbound{msg: msg, at: time.Now()}) })
		return
	}
	d.enqueue(inbound{msg: msg, at: at})
}

func (d *Driver) enqueue(in inbound) {
	select {
	case d.inbox <- in:
	default:
		d.m.dropped.WithLabelValues(reasonInboxFull).Inc()
	}
}

// later runs fn after delay unless the driver closes first, within
// MaxDelayedDatagrams held at once (beyond, the datagram is dropped as by
// the fault).
func (d *Driver) later(delay time.Duration, fn func()) {
	if d.delayed.Add(1) > int64(d.cfg.MaxDelayedDatagrams) {
		d.delayed.Add(-1)
		d.m.dropped.WithLabelValues(reasonFault).Inc()
		return
	}
	time.AfterFunc(delay, func() {
		defer d.delayed.Add(-1)
		select {
		case <-d.stop:
		default:
			fn()
		}
	})
}

// sendDatagram encodes and sends one datagram from the loop.
func (d *Driver) sendDatagram(ob *gossip.Outbound) {
	msg := &ob.Msg
	d.sendBuf = gossip.AppendEncode(d.sendBuf[:0], msg)
	if len(d.sendBuf) > d.cfg.Core.MaxMessageBytes {
		// The core fills datagrams up to MaxMessageBytes and never over.
		d.m.dropped.WithLabelValues(reasonTooLarge).Inc()
		d.errLog.log(d.log, "too-large", "gossip: datagram over MaxMessageBytes (a core bug)", "kind", msg.Kind.String(), "bytes", len(d.sendBuf))
		return
	}
	to, ok := d.resolve(ob.Addr)
	if !ok {
		d.m.dropped.WithLabelValues(reasonNoAddress).Inc()
		d.errLog.log(d.log, "resolve", "gossip: no usable address for a member", "member", hexID(msg.To), "addr", ob.Addr)
		return
	}
	if msg.Kind == gossip.MsgPing && len(d.pings) < d.cfg.MaxPendingPings {
		d.pings[msg.Seq] = pingRecord{to: msg.To, sent: time.Now()}
	}
	drop, delay := d.faults.verdict(msg.To, transport.Outbound)
	switch {
	case drop:
		d.m.dropped.WithLabelValues(reasonFault).Inc()
		return
	case delay > 0:
		b := append([]byte(nil), d.sendBuf...)
		kind := msg.Kind
		d.later(delay, func() { d.write(b, to, kind) })
		return
	}
	d.write(d.sendBuf, to, msg.Kind)
}

// write sends b; safe from any goroutine (the socket is).
func (d *Driver) write(b []byte, to netip.AddrPort, kind gossip.MsgKind) {
	if _, err := d.conn.WriteToUDPAddrPort(b, to); err != nil {
		d.m.dropped.WithLabelValues(reasonSendError).Inc()
		if !errors.Is(err, net.ErrClosed) {
			d.errLog.log(d.log, "write", "gossip: udp send", "to", to.String(), "err", err)
		}
		return
	}
	label := kindLabel(kind)
	d.m.sent.WithLabelValues(label).Inc()
	d.m.bytesSent.WithLabelValues(label).Add(float64(len(b)))
}

// resolve turns a member's advertised address into a UDP destination,
// caching up to MaxAddrCache of them (the cache is cleared at the bound).
//
// HAZARD: a host name is resolved on the loop; a slow resolver stalls the
// node's ticks. Advertise IP addresses on networks without a local
// resolver cache.
func (d *Driver) resolve(addr string) (netip.AddrPort, bool) {
	if addr == "" {
		return netip.AddrPort{}, false
	}
	if ap, ok := d.addrs[addr]; ok {
		return ap, true
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		ua, rerr := net.ResolveUDPAddr("udp", addr)
		if rerr != nil {
			return netip.AddrPort{}, false
		}
		ap = ua.AddrPort()
	}
	if !ap.IsValid() || ap.Port() == 0 {
		return netip.AddrPort{}, false
	}
	if len(d.addrs) >= d.cfg.MaxAddrCache {
		clear(d.addrs)
	}
	d.addrs[addr] = ap
	return ap, true
}

// observeAck times the ping an ack answers: "direct" when the target
// itself answered, "indirect" when a helper relayed it.
func (d *Driver) observeAck(in *inbound) {
	rec, ok := d.pings[in.msg.Seq]
	if !ok {
		return
	}
	delete(d.pings, in.msg.Seq)
	path := "direct"
	if in.msg.From != rec.to {
		path = "indirect"
	}
	d.m.probeRTT.WithLabelValues(path).Observe(in.at.Sub(rec.sent).Seconds())
}

// expirePings forgets pings older than ten maximal probe periods: their
// target is not answering.
func (d *Driver) expirePings() {
	c := d.cfg.Core
	horizon := 10 * time.Duration(c.ProbeIntervalTicks*(c.MaxLocalHealth+1)) * c.TickDuration
	now := time.Now()
	for seq, rec := range d.pings {
		if now.Sub(rec.sent) > horizon {
			delete(d.pings, seq)
		}
	}
}
