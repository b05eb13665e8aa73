// Package sdnotify speaks systemd's sd_notify protocol: it sends state
// lines (READY=1, STOPPING=1, RELOADING=1, WATCHDOG=1, STATUS=…) as
// datagrams to the unix socket named by $NOTIFY_SOCKET, and reads the
// watchdog interval systemd asks for ($WATCHDOG_USEC, $WATCHDOG_PID).
//
// It is written from sd_notify(3) and needs no libsystemd. When
// $NOTIFY_SOCKET is unset (not started by systemd, or Type= is not notify)
// every method is a no-op that returns nil, so callers need no branches.
// Abstract sockets ("@name") are supported; vsock addresses are not.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends state changes to systemd. The zero value and a nil
// *Notifier are disabled no-ops. It is safe for concurrent use: each
// message is one datagram on its own connection.
type Notifier struct {
	addr *net.UnixAddr // nil when disabled
	// monotonic returns CLOCK_MONOTONIC in microseconds (RELOADING=1 needs
	// it: systemd matches the reload to the time it was requested).
	monotonic func() (uint64, error)
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET, disabled when the
// variable is unset or empty. getenv is os.Getenv outside tests. A value
// that is neither a path nor an abstract "@name" is an error.
func FromEnv(getenv func(string) string) (*Notifier, error) {
	sock := getenv("NOTIFY_SOCKET")
	switch {
	case sock == "":
		return &Notifier{}, nil
	case strings.HasPrefix(sock, "/"), strings.HasPrefix(sock, "@"):
		// Go maps a leading '@' to the Linux abstract namespace itself.
		return &Notifier{addr: &net.UnixAddr{Name: sock, Net: "unixgram"}, monotonic: monotonicUsec}, nil
	default:
		return nil, fmt.Errorf("notify socket %q: unsupported address (want a path or @abstract)", sock)
	}
}

// IsEnabled reports whether messages go anywhere.
func (n *Notifier) IsEnabled() bool { return n != nil && n.addr != nil }

// Notify sends one message of newline-separated VAR=value lines as given.
// It returns nil without sending when the Notifier is disabled.
func (n *Notifier) Notify(state string) error {
	if !n.IsEnabled() {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	_, werr := conn.Write([]byte(state))
	cerr := conn.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}

// Ready tells systemd start-up is complete (Type=notify units leave
// "activating" only then), with an optional status line.
func (n *Notifier) Ready(status string) error {
	return n.Notify(withStatus("READY=1", status))
}

// Stopping tells systemd the service is shutting down.
func (n *Notifier) Stopping(status string) error {
	return n.Notify(withStatus("STOPPING=1", status))
}

// Reloading tells systemd a configuration reload began; send Ready when it
// ends. MONOTONIC_USEC is included as sd_notify(3) requires since 253;
// older systemd ignores it.
func (n *Notifier) Reloading(status string) error {
	if !n.IsEnabled() {
		return nil
	}
	us, err := n.monotonic()
	if err != nil {
		return fmt.Errorf("notify systemd: read monotonic clock: %w", err)
	}
	return n.Notify(withStatus("RELOADING=1\nMONOTONIC_USEC="+strconv.FormatUint(us, 10), status))
}

// Watchdog sends one keep-alive ping (WATCHDOG=1).
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

// Status sets the free-form status line systemctl status shows. Newlines
// in s are replaced, since each line would be read as a variable.
func (n *Notifier) Status(s string) error { return n.Notify(withStatus("", s)) }

func withStatus(state, status string) string {
	if status == "" {
		return state
	}
	line := "STATUS=" + strings.NewReplacer("\n", " ", "\r", " ").Replace(status)
	if state == "" {
		return line
	}
	return state + "\n" + line
}

// WatchdogInterval returns the watchdog timeout systemd set for this
// process (WatchdogSec=), and whether one is set. Per sd_watchdog_enabled(3)
// it is set when $WATCHDOG_USEC is a positive integer and $WATCHDOG_PID is
// unset or equals pid. Ping at half the interval.
func WatchdogInterval(getenv func(string) string, pid int) (time.Duration, bool) {
	us, err := strconv.ParseUint(getenv("WATCHDOG_USEC"), 10, 63)
	if err != nil || us == 0 {
		return 0, false
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		if wp, err := strconv.Atoi(p); err != nil || wp != pid {
			return 0, false
		}
	}
	return time.Duration(us) * time.Microsecond, true
}

func monotonicUsec() (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, err
	}
	return uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3, nil
}
