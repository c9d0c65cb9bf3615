package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/saga"
)

// trip is the saga's input.
type trip struct {
	Traveller string  `json:"traveller"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	Date      string  `json:"date"`
	Nights    int     `json:"nights"`
	Amount    float64 `json:"amount_eur"`
}

type options struct {
	endpoints    string
	sagaID       string
	resume       bool
	crashAfter   string
	crashBefore  string
	failPayment  bool
	leaseTTL     time.Duration
	wait         time.Duration
	verbose      bool
	prefix       string
	traveller    string
	flakyPayment int
}

func main() {
	var o options
	flag.StringVar(&o.endpoints, "endpoints", "127.0.0.1:2379", "comma-separated client endpoints of the cairn cluster")
	flag.StringVar(&o.sagaID, "saga-id", "", "the saga's ID (default: trip-<time>); with --resume, the saga to wait for (default: every unfinished one)")
	flag.BoolVar(&o.resume, "resume", false, "start no saga: run an executor that takes over unfinished sagas and wait for them")
	flag.StringVar(&o.crashAfter, "crash-after", "", "exit the process (os.Exit) right after this step's action is logged: flight, hotel or payment")
	flag.StringVar(&o.crashBefore, "crash-before-log", "", "exit the process between this step's action and the log write that records it")
	flag.BoolVar(&o.failPayment, "fail-payment", false, "the card is declined: the saga compensates")
	flag.IntVar(&o.flakyPayment, "flaky-payment", 0, "the payment service fails this many attempts transiently before it works")
	flag.DurationVar(&o.leaseTTL, "lease-ttl", 5*time.Second, "the executor's lease TTL: how long a crashed run's saga waits before another executor takes it")
	flag.DurationVar(&o.wait, "timeout", 2*time.Minute, "give up waiting after this long")
	flag.BoolVar(&o.verbose, "v", false, "show the executor's logs")
	flag.StringVar(&o.prefix, "prefix", saga.DefaultPrefix, "key prefix of the saga log")
	flag.StringVar(&o.traveller, "traveller", "Ada Lovelace", "who travels")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "booking:", err)
		os.Exit(1)
	}
}

// out serialises the transcript's lines.
var out = struct {
	sync.Mutex
	w io.Writer
}{w: os.Stdout}

func say(format string, args ...any) {
	out.Lock()
	defer out.Unlock()
	fmt.Fprintf(out.w, format+"\n", args...)
}

func run(o options) error {
	for _, s := range []string{o.crashAfter, o.crashBefore} {
		if s != "" && s != "flight" && s != "hotel" && s != "payment" {
			return fmt.Errorf("unknown step %q: want flight, hotel or payment", s)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(o.endpoints, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = cli.Status(sctx, strings.Split(o.endpoints, ",")[0])
	cancel()
	if err != nil {
		return fmt.Errorf("no cairn cluster at %s (start one with `cairn dev --nodes 1`): %w", o.endpoints, err)
	}

	cfg := saga.DefaultExecutorConfig()
	cfg.Prefix = o.prefix
	cfg.ID = fmt.Sprintf("booking-%d", os.Getpid())
	cfg.LeaseTTL = o.leaseTTL
	cfg.ScanInterval = time.Second
	cfg.ActionRetry = saga.RetryPolicy{MaxAttempts: 4, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, Multiplier: 2, Jitter: 0.3}
	level := slog.LevelError + 1
	if o.verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.CrashHook = func(cp saga.CrashPoint) bool {
		switch {
		case cp.Point == saga.PointAfterActionLogged && cp.Step == o.crashAfter:
			say("*** crash: the process exits right after the %s step was logged (os.Exit(3)); its lease is left to expire ***", cp.Step)
		case cp.Point == saga.PointAfterAction && cp.Step == o.crashBefore:
			say("*** crash: the process exits after the %s call returned, before the log write that records it (os.Exit(3)) ***", cp.Step)
		default:
			return false
		}
		os.Exit(3)
		return true
	}
	ex, err := saga.NewExecutor(cli, cfg)
	if err != nil {
		return err
	}
	if err := ex.Register(bookingSaga(cli, o)); err != nil {
		return err
	}
	if err := ex.Start(ctx); err != nil {
		return err
	}
	defer ex.Close()
	say("executor %s up: lease TTL %v, cluster %s", ex.ID(), o.leaseTTL, o.endpoints)

	wctx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	if !o.resume {
		id := o.sagaID
		if id == "" {
			id = "trip-" + time.Now().Format("150405")
		}
		in := trip{Traveller: o.traveller, From: "LHR", To: "JFK", Date: "2026-12-01", Nights: 3, Amount: 842}
		payload, _ := json.Marshal(in)
		say("saga %s: %s, %s -> %s on %s, %d nights, %.2f EUR", id, in.Traveller, in.From, in.To, in.Date, in.Nights, in.Amount)
		if err := ex.Submit(wctx, "booking", id, payload); err != nil {
			return err
		}
		return waitFor(wctx, cli, ex, id)
	}
	ids := []string{o.sagaID}
	if o.sagaID == "" {
		ids = nil
		for _, st := range []saga.Status{saga.StatusPending, saga.StatusRunning, saga.StatusCompensating} {
			list, _, err := ex.Client().List(wctx, saga.ListOptions{Status: st})
			if err != nil {
				return err
			}
			for _, s := range list {
				if s.Definition == "booking" {
					ids = append(ids, s.ID)
				}
			}
		}
		if len(ids) == 0 {
			say("no unfinished booking saga to resume")
			return nil
		}
	}
	for _, id := range ids {
		if err := waitFor(wctx, cli, ex, id); err != nil {
			return err
		}
	}
	return nil
}

// waitFor says where saga id stands, waits until it is finished, and
// prints its log.
func waitFor(ctx context.Context, cli *clientv3.Client, ex *saga.Executor, id string) error {
	s, err := ex.Client().Get(ctx, id)
	if err != nil {
		return err
	}
	if s.Owner != "" && s.Owner != ex.ID() {
		left := "?"
		if ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(s.OwnerLease)); err == nil {
			left = fmt.Sprintf("%ds", ttl.TTL)
		}
		say("saga %s is %s, owned by executor %s, which is gone; its lease %x expires in %s, then this executor takes over",
			id, s.Status, s.Owner, s.OwnerLease, left)
	}
	start := time.Now()
	s, err = ex.Client().Wait(ctx, id)
	if err != nil {
		return err
	}
	say("saga %s: %s (waited %v)", id, strings.ToUpper(s.Status.String()), time.Since(start).Round(10*time.Millisecond))
	if s.Error != "" {
		say("  reason: %s", s.Error)
	}
	say("  %-8s %-20s %-8s %-8s %-10s %s", "step", "status", "actions", "undos", "output", "last written by")
	for _, st := range s.Steps {
		say("  %-8s %-20s %-8d %-8d %-10s %s", st.Name, st.Status, st.ActionAttempts, st.CompensationAttempts, orDash(string(st.Output)), orDash(st.Executor))
	}
	if s.Status == saga.StatusCompensationFailed {
		return errors.New("the saga needs an operator (saga.Client Retry or Resolve)")
	}
	return nil
}

// call prints one step call's line of the transcript.
func call(c *saga.Call, kind, format string, args ...any) {
	say("  %-10s %-6s attempt %d  key %-27s -> %s", "["+c.Step+"]", kind, c.Attempt, c.Key, fmt.Sprintf(format, args...))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bookingSaga is the guide's saga: book_flight/cancel_flight,
// book_hotel/cancel_hotel, process_payment/refund_payment.
func bookingSaga(cli *clientv3.Client, o options) saga.Definition {
	flight := &service{cli: cli, name: "flight", verb: "booked", undo: "cancelled", inf: "cancel", ref: "FL"}
	hotel := &service{cli: cli, name: "hotel", verb: "booked", undo: "cancelled", inf: "cancel", ref: "HT"}
	payment := &service{cli: cli, name: "payment", verb: "charged", undo: "refunded", inf: "refund", ref: "PAY"}
	action := func(s *service, detail func(trip) string) saga.ActionFunc {
		return func(ctx context.Context, c *saga.Call) ([]byte, error) {
			var in trip
			if err := json.Unmarshal(c.Input, &in); err != nil {
				return nil, saga.Permanentf("bad input: %v", err)
			}
			if s == payment {
				if o.failPayment {
					call(c, "action", "card declined (permanent)")
					return nil, saga.Permanentf("card declined")
				}
				if c.Attempt <= o.flakyPayment {
					call(c, "action", "gateway timeout (transient, retried)")
					return nil, errors.New("payment gateway timeout")
				}
			}
			ref, fresh, err := s.book(ctx, c, detail(in))
			switch {
			case err != nil:
				call(c, "action", "error: %v", err)
				return nil, err
			case fresh:
				call(c, "action", "%s %s (%s)", s.verb, detail(in), ref)
			default:
				call(c, "action", "already %s as %s: repeat absorbed", s.verb, ref)
			}
			return []byte(ref), nil
		}
	}
	compensate := func(s *service) saga.CompensateFunc {
		return func(ctx context.Context, c *saga.Call) error {
			what, err := s.cancel(ctx, c)
			if err != nil {
				call(c, "undo", "error: %v", err)
				return err
			}
			call(c, "undo", "%s", what)
			return nil
		}
	}
	return saga.Definition{
		Name: "booking",
		Steps: []saga.Step{
			{Name: "flight", Action: action(flight, func(t trip) string { return fmt.Sprintf("%s->%s %s", t.From, t.To, t.Date) }), Compensate: compensate(flight)},
			{Name: "hotel", Action: action(hotel, func(t trip) string { return fmt.Sprintf("%d nights in %s", t.Nights, t.To) }), Compensate: compensate(hotel)},
			{Name: "payment", Action: action(payment, func(t trip) string { return fmt.Sprintf("%.2f EUR", t.Amount) }), Compensate: compensate(payment)},
		},
	}
}
