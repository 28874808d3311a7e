package e2e

import (
	"strings"
	"testing"
	"time"

	"drawbridge/internal/bridge"
	"drawbridge/internal/client"
	"drawbridge/internal/session"
	"drawbridge/protocol"
)

// withSettings starts the bridge with modified session settings.
func withSettings(f func(*session.Settings)) func(*bridge.Config) {
	return func(c *bridge.Config) {
		st := session.DefaultSettings()
		f(&st)
		c.Settings = &st
	}
}

// TestStreamedReset: when the history passes the autoreset threshold the
// operator is asked, streams a compacted image, and later joiners get the
// image instead of the old history while present users are not
// interrupted.
func TestStreamedReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSettings(func(s *session.Settings) {
		s.AutoResetThreshold = 8 << 10
		s.MinimumAutoResetThreshold = 0
	}))
	host := e.host("Alice", tcp, client.HostOptions{Alias: "stream"})
	bob, _ := e.join("Bob", ws, "stream", "")
	big := strings.Repeat("x", 3000)
	for range 4 {
		e.chat(host, big)
	}
	rs := e.until(host, "autoreset query", func(r rec) bool { return r.Reply != nil && r.Reply.Type == "autoreset" })
	q := rs[len(rs)-1].Reply
	if !q.Query || q.Payload == "" {
		t.Fatalf("autoreset query %s", q.Raw)
	}
	if err := host.ReadyToAutoreset(e.ctx, q.Payload); err != nil {
		t.Fatal(err)
	}
	rs = e.until(host, "autoreset go", func(r rec) bool { return r.Reply != nil && r.Reply.Type == "autoreset" && !r.Reply.Query })
	goAhead := rs[len(rs)-1].Reply
	if goAhead.Stream == "" || goAhead.Corr == "" {
		t.Fatalf("autoreset answer without a stream: %s", goAhead.Raw)
	}
	if err := host.StreamResetStart(e.ctx, goAhead.Corr); err != nil {
		t.Fatal(err)
	}
	rs = e.until(host, "sstart", reply("sstart"))
	var softReset bool
	for _, r := range rs {
		softReset = softReset || r.Type == 37 && r.Ctx == 0
	}
	if !softReset {
		t.Errorf("no SoftReset before sstart: %v", rs)
	}
	// The image: the snapshot and one message drawn "during" the reset.
	image := snapshot(t, host.UserID())
	chunks, err := client.EncodeResetStream(image)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chunks {
		if err := host.SendResetStream(e.ctx, ch); err != nil {
			t.Fatal(err)
		}
		rs := e.until(host, "sprogress", reply("sprogress"))
		if rs[len(rs)-1].Reply.Cancel {
			t.Fatalf("server cancelled the stream")
		}
	}
	e.chat(bob, "after sstart")
	if err := host.StreamResetFinish(e.ctx, len(image)); err != nil {
		t.Fatal(err)
	}
	// Bob was not interrupted: he gets his chat back and no reset notice.
	for _, r := range e.until(bob, "own chat", chatFrom(bob.UserID(), "after sstart")) {
		if r.Reply != nil && r.Reply.Type == "reset" {
			t.Errorf("Bob got a reset notice in a streamed reset: %v", r)
		}
	}
	e.sync(host)
	e.sync(bob)
	// A new joiner gets the compacted history.
	_, catchup := e.join("Carol", tcp, "stream", "")
	var sawImage, sawAfter bool
	for _, r := range history(catchup) {
		if r.Type == 35 && len(r.Payload) > 1000 {
			t.Fatalf("Carol replayed the pre-reset history")
		}
		sawImage = sawImage || r.Type == 162
		sawAfter = sawAfter || r.Type == 35 && strings.HasSuffix(r.Payload, "after sstart")
	}
	if !sawImage || !sawAfter {
		t.Errorf("Carol's catch-up: image %v, message after sstart %v", sawImage, sawAfter)
	}
}

// TestTimeouts: a client that goes silent is dropped after clientTimeout;
// one that pings stays; clients that announced KEEPALIVE get KeepAlives
// while the server has nothing to say.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSettings(func(s *session.Settings) {
		s.ClientTimeout = 2 * time.Second // generous: keepalives every 100 ms must arrive even on a loaded machine
		s.KeepAliveInterval = 100 * time.Millisecond
	}))
	host := e.host("Alice", tcp, client.HostOptions{Alias: "timeouts"})
	silent, _ := e.join("Silent", ws, "timeouts", "")
	// The host pings until Silent is gone; it must stay.
	stop := make(chan struct{})
	pinger := make(chan error, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				pinger <- nil
				return
			case <-tick.C:
				if err := host.Ping(e.ctx); err != nil {
					pinger <- err
					return
				}
			}
		}
	}()
	// Silent only reads (KeepAlives are swallowed by Recv); the bridge must
	// close it.
	keepAlives := 0
	for {
		f, err := silent.Transport().ReadFrame(e.ctx)
		if err != nil {
			if e.ctx.Err() != nil {
				t.Fatalf("silent client never timed out")
			}
			break
		}
		if f.Type() == protocol.Type(3) {
			keepAlives++
		}
	}
	if keepAlives == 0 {
		t.Errorf("no KeepAlive before the timeout although the client announced KEEPALIVE")
	}
	e.until(host, "Silent's Leave", msgOf(33, silent.UserID()))
	close(stop)
	if err := <-pinger; err != nil {
		t.Fatalf("pinging host: %v", err)
	}
	e.sync(host)
}

// TestSlowClientKicked: a client that stops reading is disconnected once it
// lags too far behind; the session never waits for it, the others keep
// drawing, and it can rejoin and catch up.
func TestSlowClientKicked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSettings(func(s *session.Settings) {
		s.MaxLag = 256 << 10
		s.WriteTimeout = 300 * time.Millisecond
	}))
	host := e.host("Alice", tcp, client.HostOptions{Alias: "slow"})
	bob, _ := e.join("Bob", ws, "slow", "")
	slow, _ := e.join("Sloth", tcp, "slow", "") // never reads from now on
	big := strings.Repeat("y", 60000)
	for i := 0; ; i++ {
		e.chat(host, big)
		rs := e.until(host, "own chat", func(r rec) bool { return r.Type == 35 && r.Ctx == host.UserID() })
		e.until(bob, "host's chat", func(r rec) bool { return r.Type == 35 && r.Ctx == host.UserID() })
		gone := false
		for _, r := range rs {
			gone = gone || r.Type == 33 && r.Ctx == slow.UserID()
		}
		if gone {
			break
		}
		if i > 400 { // 24 MB: far beyond any socket buffer
			t.Fatalf("slow client never disconnected")
		}
	}
	e.drawingGoesOn(host, bob)
	// The slow client finds its connection closed and can come back.
	if de := e.expectClosed(slow); de != nil && de.Reason == client.ReasonKick {
		t.Errorf("slow client was kicked like by an operator: %+v", de)
	}
	again := client.New(e.transport(tcp), client.Options{Info: slow.Info()})
	if _, err := again.Login(e.ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "Sloth"}, Join: &client.JoinOptions{Session: "slow"}}); err != nil {
		t.Fatalf("rejoin: %v", err)
	}
	if err := again.WaitCaughtUp(e.ctx, nil); err != nil {
		t.Fatalf("catch up after rejoin: %v", err)
	}
}
