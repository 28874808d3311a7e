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
	"strconv"
	"strings"

	"drawbridge/internal/loadgen"
)

func init() {
	commands["bots"] = subcommand{
		summary: "load generator and latency meter for any Drawpile server",
		run:     runBots,
	}
}

const botsUsage = `usage: dptool bots --server URL --session NAME [flags]
       dptool bots --table REPORT.json...
       dptool bots --selfcheck
       dptool bots --serve-null ADDR

Connects drawers and watchers to a Drawpile-protocol server (Drawbridge or
drawpile-srv), draws at --rate messages per second per drawer for
--duration, and reports latency percentiles, throughput, errors and, with
--server-pid, the server's CPU and peak RSS. URL is tcp://HOST[:PORT] or
ws://HOST:PORT/PATH (e.g. ws://127.0.0.1:8080/drawpile-web/ws).

Side by side with Drawpile's own server: start drawpile-srv (e.g.
"drawpile-srv --port 27750 --websocket-port 27751") and the bridge on the
same machine, then run the same command against each, changing only
--server and --server-pid:

  dptool bots --server tcp://127.0.0.1:27750 --session cmp --host-session \
      --drawers 10 --watchers 100 --duration 20s --seed 1 \
      --server-pid "$(pidof drawpile-srv)" --out srv.json
  dptool bots --server tcp://127.0.0.1:PORT ... --server-pid BRIDGE_PID --out bridge.json
  dptool bots --table srv.json bridge.json

The same --seed sends the same messages (layer ids carry the context id
each server assigns). drawpile-srv's WebSocket listener ignores the path
(ws://127.0.0.1:27751/). --serve-null runs a server that only relays, to
show what the bots themselves cost.

flags:`

func runBots(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bots", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	var fill, out, label, logLevel, serveNull string
	var table, selfcheck, strict bool
	fs.StringVar(&cfg.Server, "server", "", "server `URL`: tcp://HOST[:PORT], ws://HOST:PORT/PATH or wss://…")
	fs.StringVar(&cfg.Session, "session", "", "session id or alias (with --sessions N: NAME-1 … NAME-N)")
	fs.IntVar(&cfg.Sessions, "sessions", 1, "number of sessions; --drawers and --watchers are per session")
	fs.BoolVar(&cfg.HostSession, "host-session", false, "the first bot of each session hosts it (alias = session name)")
	fs.StringVar(&cfg.Password, "password", "", "session password")
	fs.IntVar(&cfg.Drawers, "drawers", 1, "drawing bots per session")
	fs.IntVar(&cfg.Watchers, "watchers", 0, "watching bots per session")
	fs.DurationVar(&cfg.Duration, "duration", 0, "drawing phase (default 10s)")
	fs.Float64Var(&cfg.Rate, "rate", 20, "messages per second per drawer")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed: the same seed sends the same messages")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "local server `PID` whose CPU and peak RSS to report (from /proc)")
	fs.BoolVar(&cfg.Catchup, "catchup", false, "only join, catch up and report time to caughtup and MB/s")
	fs.StringVar(&fill, "fill", "", "with --host-session: upload this much drawing (e.g. 15MB, 99MB) before the others join")
	fs.StringVar(&cfg.NamePrefix, "name-prefix", "bot", "user name prefix (runs sharing a session need different prefixes)")
	fs.StringVar(&cfg.Origin, "origin", "", "WebSocket Origin header (makes the server treat bots as browsers)")
	fs.IntVar(&cfg.LoginConcurrency, "login-concurrency", 32, "simultaneous logins")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 0, "bound on the whole connect phase (default 2m)")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", 0, "wait for the last deliveries after drawing (default 15s)")
	fs.StringVar(&out, "out", "", "write the JSON report to this `file`")
	fs.StringVar(&label, "label", "", "scenario name stored in the report (for --table)")
	fs.StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error (to stderr)")
	fs.BoolVar(&strict, "strict", false, "exit with an error if any bot failed or a receiver missed a message")
	fs.BoolVar(&table, "table", false, "print a Markdown table of the given report files")
	fs.BoolVar(&selfcheck, "selfcheck", false, "measure the tool's own cost per message without a server")
	fs.StringVar(&serveNull, "serve-null", "", "run a null server (login + relay, no history) on `ADDR` until interrupted, to measure the bots' own cost")
	fs.Usage = func() {
		fmt.Fprintln(stderr, botsUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	switch {
	case table:
		return botsTable(fs.Args(), stdout)
	case serveNull != "":
		ns, err := loadgen.StartNullServer(ctx, serveNull, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "null server listening on tcp://%s\n", ns.Addr())
		<-ctx.Done()
		return ns.Close()
	case selfcheck:
		res, err := loadgen.SelfCheck(ctx, 200000)
		if err != nil {
			return err
		}
		res.WriteSummary(stdout)
		return nil
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dptool bots: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if fill != "" {
		n, err := parseSize(fill)
		if err != nil {
			fmt.Fprintf(stderr, "dptool bots: --fill: %v\n", err)
			return errUsage
		}
		cfg.FillBytes = n
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(stderr, "dptool bots: --log-level: %v\n", err)
		return errUsage
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	rep, err := loadgen.Run(ctx, cfg)
	var ce *loadgen.ConfigError
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "dptool bots: %v\n", err)
		return errUsage
	}
	if rep == nil {
		return err
	}
	rep.Label = label
	rep.WriteSummary(stdout)
	if out != "" {
		b, jerr := json.MarshalIndent(rep, "", "  ")
		if jerr != nil {
			return fmt.Errorf("encode report: %w", jerr)
		}
		if werr := os.WriteFile(out, append(b, '\n'), 0o644); werr != nil {
			return fmt.Errorf("write report: %w", werr)
		}
	}
	if err != nil {
		return err
	}
	if strict {
		switch {
		case rep.Errors > 0:
			return fmt.Errorf("%d bot errors", rep.Errors)
		case !rep.CatchupOnly && !rep.Consistency.OK:
			return errors.New("consistency check failed")
		case rep.CatchupOnly && rep.Catchup.CaughtUp < rep.Catchup.Bots:
			return errors.New("not every bot caught up")
		}
	}
	return nil
}

// botsTable prints the Markdown table of the reports in files.
func botsTable(files []string, w io.Writer) error {
	if len(files) == 0 {
		return errors.New("--table needs report files")
	}
	fmt.Fprint(w, loadgen.TableHeader)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var rep loadgen.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		name := rep.Label
		if name == "" {
			name = f
		}
		fmt.Fprint(w, rep.FormatRow(name))
	}
	return nil
}

// parseSize parses a byte count with an optional unit: B, kB, MB, GB
// (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("bad size unit %q", unit)
	}
	return int64(v * mult), nil
}
