// Command booking runs the guide's booking saga (book a flight, book a
// hotel, take the payment; cancel, cancel, refund) as a durable saga on a
// running cairn cluster, and shows what happens when the process running
// it dies mid-saga: another run of the program (another executor) takes
// the saga over when the dead one's lease expires, and finishes it
// forward or backward.
//
// The three "services" are fakes that keep their bookings in the cluster
// too (under /booking/), and deduplicate by the idempotency key the saga
// executor passes, as real services must: a call repeated after a crash
// finds its booking and does not book twice. The transcript says which
// calls took effect and which were absorbed.
//
//	cairn dev --nodes 1                  # in another terminal
//	go run ./examples/booking                        # completes
//	go run ./examples/booking --fail-payment         # compensates
//	go run ./examples/booking --crash-after hotel    # dies mid-saga
//	go run ./examples/booking --resume               # another executor finishes it
//
// See README.md for a captured transcript.
package main
