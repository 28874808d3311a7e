// Package systemd implements the two systemd protocols the bridge uses when it
// runs as a service: readiness and watchdog notifications (sd_notify, for
// Type=notify units) and socket activation (listening sockets handed over by a
// .socket unit). It reads no environment variables itself: the caller passes
// the values of NOTIFY_SOCKET, WATCHDOG_USEC, LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES in, so the package is testable and has no hidden inputs.
//
// Protocol references: sd_notify(3), sd_listen_fds(3), sd_watchdog_enabled(3).
package systemd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notifier sends state updates to the service manager. The zero value (no
// socket) is valid and does nothing, so callers need not check whether they
// run under systemd.
type Notifier struct {
	addr *net.UnixAddr // immutable after construction; nil = not under systemd
}

// NewNotifier returns a Notifier for the NOTIFY_SOCKET value socket. An empty
// value gives a no-op Notifier. A value starting with '@' names a socket in
// the abstract namespace.
func NewNotifier(socket string) *Notifier {
	if socket == "" {
		return &Notifier{}
	}
	name := socket
	if strings.HasPrefix(name, "@") {
		name = "\x00" + name[1:]
	}
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}
}

// Enabled reports whether notifications are sent anywhere.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != nil }

// Notify sends one state datagram, e.g. "READY=1" or "STATUS=3 sessions".
// Several assignments may be joined with newlines.
func (n *Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("systemd: dial notify socket: %w", err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return fmt.Errorf("systemd: notify: %w", err)
	}
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("systemd: notify: %w", err)
	}
	return nil
}

// Ready tells the manager that start-up finished (Type=notify units wait for
// it), and Stopping that shutdown began.
func (n *Notifier) Ready() error    { return n.Notify("READY=1") }
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// WatchdogInterval parses WATCHDOG_USEC (and WATCHDOG_PID, which must be
// empty or equal to pid) and returns how often the service must ping: half
// the configured timeout, as sd_watchdog_enabled(3) recommends. It returns 0
// when no watchdog is configured for this process.
func WatchdogInterval(usec, watchdogPID string, pid int) (time.Duration, error) {
	if usec == "" {
		return 0, nil
	}
	if watchdogPID != "" && watchdogPID != strconv.Itoa(pid) {
		return 0, nil
	}
	us, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || us <= 0 {
		return 0, fmt.Errorf("systemd: bad WATCHDOG_USEC %q", usec)
	}
	return time.Duration(us) * time.Microsecond / 2, nil
}

// RunWatchdog sends "WATCHDOG=1" every interval until ctx ends, as long as
// healthy returns true (a wedged server stops pinging and gets restarted). It
// blocks; the caller owns the goroutine that runs it.
func (n *Notifier) RunWatchdog(ctx context.Context, interval time.Duration, healthy func() bool) {
	if !n.Enabled() || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if healthy == nil || healthy() {
				_ = n.Notify("WATCHDOG=1") // a lost ping is retried next tick
			}
		}
	}
}

// listenFDsStart is the first file descriptor passed by socket activation.
const listenFDsStart = 3

// ErrNotActivated is returned by Listeners when the process was not started
// by socket activation.
var ErrNotActivated = errors.New("systemd: not socket-activated")

// Listener is one socket handed over by the service manager.
type Listener struct {
	Name string // from LISTEN_FDNAMES (FileDescriptorName= in the .socket unit); "" if unnamed
	net.Listener
}

// Listeners returns the stream listeners passed by socket activation, given
// the values of LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES and this process's
// pid. The file descriptors are marked close-on-exec.
func Listeners(listenPID, listenFDs, fdNames string, pid int) ([]Listener, error) {
	if listenPID == "" || listenFDs == "" {
		return nil, ErrNotActivated
	}
	if listenPID != strconv.Itoa(pid) {
		return nil, ErrNotActivated // meant for another process (e.g. our parent)
	}
	n, err := strconv.Atoi(listenFDs)
	if err != nil || n < 0 || n > 64 {
		return nil, fmt.Errorf("systemd: bad LISTEN_FDS %q", listenFDs)
	}
	var names []string
	if fdNames != "" {
		names = strings.Split(fdNames, ":")
	}
	out := make([]Listener, 0, n)
	for i := range n {
		fd := listenFDsStart + i
		name := ""
		if i < len(names) {
			name = names[i]
		}
		f := os.NewFile(uintptr(fd), "systemd-listen-"+strconv.Itoa(fd))
		if f == nil {
			return nil, fmt.Errorf("systemd: fd %d is not open", fd)
		}
		ln, err := net.FileListener(f) // dups the fd (close-on-exec)
		f.Close()
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("systemd: fd %d (%q) is not a stream listener: %w", fd, name, err)
		}
		out = append(out, Listener{Name: name, Listener: ln})
	}
	return out, nil
}
