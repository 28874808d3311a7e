package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"drawbridge/internal/client"
	"drawbridge/protocol"
)

// bridgeProc is a bridge running as a child process.
type bridgeProc struct {
	cmd     *exec.Cmd
	tcpAddr string
	mu      sync.Mutex
	log     bytes.Buffer  // stderr, for failure reports
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // Wait's result, readable after exited
}

var listeningRE = regexp.MustCompile(`msg=listening tcp=(\S+)`)

// buildBridge compiles cmd/bridge once per test into a temporary directory.
func buildBridge(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bridge")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	out, err := exec.Command(goTool, "build", "-o", bin, "drawbridge/cmd/bridge").CombinedOutput()
	if err != nil {
		t.Fatalf("build cmd/bridge: %v\n%s", err, out)
	}
	return bin
}

// startBridge starts bin on 127.0.0.1 with ephemeral ports and extra args,
// and waits for its "listening" log line.
func startBridge(t *testing.T, ctx context.Context, bin string, args ...string) *bridgeProc {
	t.Helper()
	all := append([]string{"--listen", "127.0.0.1", "--port", "0", "--http", "127.0.0.1:0", "--log-format", "text", "--log-level", "info"}, args...)
	cmd := exec.Command(bin, all...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bridge: %v", err)
	}
	p := &bridgeProc{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() { // owns stderr until EOF
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		io.Copy(io.Discard, stderr)
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case p.tcpAddr = <-addr:
	case <-p.exited:
		t.Fatalf("bridge exited before listening: %v\n%s", p.waitErr, p.logs())
	case <-ctx.Done():
		t.Fatalf("bridge did not start: %v\n%s", ctx.Err(), p.logs())
	}
	return p
}

func (p *bridgeProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *bridgeProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL) // fails harmlessly if it has exited
	<-p.exited
}

// crashClient is a drawing client of one crash cycle.
type crashClient struct {
	c    *client.Client
	name string
	got  []protocol.Frame // history messages received (non-JSON), in order
}

// TestCrashDurability is the acceptance test of file-backed sessions: a
// bridge process with --sessions is killed with SIGKILL at random points
// while clients draw; after each restart on the same directory every
// history message any client had received is in the reloaded history,
// byte for byte and in order (a fresh client joining receives it), and
// the clients rejoin and draw on. It ends with a graceful SIGTERM, after
// which the session is still there.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bridge binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	bin := buildBridge(t)
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	const cycles = 6
	const drawers = 3
	var prev []*crashClient // clients of the previous cycle
	for cycle := range cycles + 1 {
		p := startBridge(t, ctx, bin, "--sessions", dir)
		dial := func(name string) *client.Client {
			tr, err := client.DialTCP(ctx, p.tcpAddr)
			if err != nil {
				t.Fatalf("cycle %d: dial: %v", cycle, err)
			}
			t.Cleanup(func() { tr.Close() })
			return client.New(tr, client.Options{Info: client.DefaultClientInfo(newSystemID())})
		}

		var observer *client.Client
		if cycle == 0 {
			host := dial("host")
			if _, err := host.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "host"},
				Host: &client.HostOptions{Alias: "crash"}}); err != nil {
				t.Fatalf("host: %v\n%s", err, p.logs())
			}
			if err := host.Initialize(ctx, snapshot(t, host.UserID())); err != nil {
				t.Fatal(err)
			}
			if _, err := syncErr(ctx, host); err != nil {
				t.Fatal(err)
			}
			observer = host
		} else {
			// A fresh client catches up on the reloaded history.
			observer = dial("observer")
			if _, err := observer.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: fmt.Sprintf("observer%d", cycle)},
				Join: &client.JoinOptions{Session: "crash"}}); err != nil {
				t.Fatalf("cycle %d: observer join after restart: %v\n%s", cycle, err, p.logs())
			}
			var hist []protocol.Frame
			if err := observer.WaitCaughtUp(ctx, func(m client.Message) error {
				if m.History && m.Frame.Type() != 0 {
					hist = append(hist, m.Frame.Clone())
				}
				return nil
			}); err != nil {
				t.Fatalf("cycle %d: observer catch-up: %v", cycle, err)
			}
			total := 0
			for _, cc := range prev {
				total += len(cc.got)
				if i, ok := subsequence(cc.got, hist); !ok {
					t.Fatalf("cycle %d: %s received message %d of %d (type %d, % x) before the crash, but it is not in the reloaded history (%d messages)",
						cycle, cc.name, i, len(cc.got), cc.got[i].Type(), []byte(cc.got[i]), len(hist))
				}
			}
			t.Logf("cycle %d: reloaded history has %d messages; all %d messages received before the crash are in it", cycle, len(hist), total)
		}
		if cycle == cycles {
			// Graceful shutdown keeps the session (the observer stays
			// connected: the last user leaving would end it).
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-p.exited:
				if p.waitErr != nil {
					t.Fatalf("bridge exit after SIGTERM: %v\n%s", p.waitErr, p.logs())
				}
			case <-ctx.Done():
				t.Fatal("bridge did not exit after SIGTERM")
			}
			var de *client.DisconnectError
			for {
				if _, err := observer.Recv(ctx); err != nil {
					if !errors.As(err, &de) {
						t.Errorf("observer at SIGTERM: %v, want a Disconnect", err)
					}
					break
				}
			}
			observer.Close()
			p2 := startBridge(t, ctx, bin, "--sessions", dir)
			c := client.New(mustDialTCP(t, ctx, p2.tcpAddr), client.Options{Info: client.DefaultClientInfo(newSystemID())})
			if _, err := c.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: "last"}, Join: &client.JoinOptions{Session: "crash"}}); err != nil {
				t.Fatalf("join after graceful restart: %v\n%s", err, p2.logs())
			}
			c.Close()
			p2.kill()
			return
		}

		// Drawers (re)join and draw until the kill.
		cur := make([]*crashClient, drawers)
		for i := range cur {
			name := fmt.Sprintf("drawer%d", i)
			c := dial(name)
			if _, err := c.Login(ctx, client.LoginOptions{Ident: client.IdentOptions{Name: name}, Join: &client.JoinOptions{Session: "crash"}}); err != nil {
				t.Fatalf("cycle %d: %s join: %v\n%s", cycle, name, err, p.logs())
			}
			cur[i] = &crashClient{c: c, name: name}
		}
		observer.Close() // the drawers keep the session alive
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for i, cc := range cur {
			wg.Add(2)
			go func() { // reader: owns cc.got until wg.Wait
				defer wg.Done()
				for {
					m, err := cc.c.Recv(ctx)
					if err != nil {
						return
					}
					if m.History && m.Frame.Type() != 0 {
						cc.got = append(cc.got, m.Frame.Clone())
					}
				}
			}()
			go func() { // writer
				defer wg.Done()
				tick := time.NewTicker(2 * time.Millisecond) // load shaping, not synchronisation
				defer tick.Stop()
				for n := int32(0); ; n++ {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					u, d, pu := stroke(cc.c.UserID(), int32(cycle*100000+i*10000)+n)
					for _, m := range []struct {
						t protocol.Type
						p []byte
					}{{128, u}, {148, d}, {140, pu}} {
						if cc.c.Send(ctx, m.t, m.p) != nil {
							return
						}
					}
					if n%10 == 0 && cc.c.Chat(ctx, fmt.Sprintf("%s cycle %d stroke %d", cc.name, cycle, n)) != nil {
						return
					}
				}
			}()
		}
		// Kill at a random point of the drawing.
		select {
		case <-time.After(time.Duration(50+rng.IntN(450)) * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("timeout")
		}
		p.kill()
		close(stop)
		wg.Wait()
		for _, cc := range cur {
			cc.c.Close()
			if len(cc.got) == 0 {
				t.Fatalf("cycle %d: %s received nothing", cycle, cc.name)
			}
		}
		prev = cur
	}
}

func mustDialTCP(t *testing.T, ctx context.Context, addr string) client.Transport {
	t.Helper()
	tr, err := client.DialTCP(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// subsequence reports whether want appears in have in order (byte-equal
// frames, gaps allowed); if not, the index of the first message of want
// that could not be matched.
func subsequence(want, have []protocol.Frame) (int, bool) {
	j := 0
	for i, w := range want {
		for j < len(have) && !bytes.Equal(have[j], w) {
			j++
		}
		if j == len(have) {
			return i, false
		}
		j++
	}
	return 0, true
}
