package client

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strconv"
	"strings"

	"drawbridge/protocol"
)

// Message types the client itself interprets (protocol.md §3.1).
const (
	typeServerCommand protocol.Type = 0
	typeDisconnect    protocol.Type = 1
	typePing          protocol.Type = 2
	typeKeepAlive     protocol.Type = 3
	typeJoin          protocol.Type = 32
	typeLeave         protocol.Type = 33
	typeSessionOwner  protocol.Type = 34
	typeChat          protocol.Type = 35
	typeTrustedUsers  protocol.Type = 36
	typePrivateChat   protocol.Type = 38
	typeResetStream   protocol.Type = 39
)

// Message is one message received in a session.
type Message struct {
	// Frame is the message in TCP framing. It is valid until the next Recv;
	// Clone it to keep it.
	Frame protocol.Frame
	// Reply is the parsed JSON of a ServerCommand (type 0), else nil.
	Reply *Reply
	// History reports whether the message is a history entry (counted for
	// hidx and catch-up progress).
	History bool
}

// catchup tracks the progress bar of protocol.md §4.12.
type catchup struct {
	active   bool
	hasKey   bool
	key      int
	count    int // announced number of messages
	got      int // history messages received since catchup
	caughtUp bool
}

// histPos tracks the client's position in the session history for fast
// reconnects: hidx = "<startId>:<pos>:<sessionId>" where pos is the hidx of
// the last marker seen plus the history messages received after it
// (matching what the server reports in status "hid*").
type histPos struct {
	valid bool
	start string
	pos   int64
	sid   string
}

func (h *histPos) set(s string) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || n < 0 {
		return
	}
	*h = histPos{valid: true, start: parts[0], pos: n, sid: parts[2]}
}

// ResumeHidx returns the hidx to send in JoinOptions.Hidx when reconnecting
// to the same session, or "" if the server never reported a history index.
func (c *Client) ResumeHidx() string {
	if !c.hist.valid {
		return ""
	}
	return c.hist.start + ":" + strconv.FormatInt(c.hist.pos, 10) + ":" + c.hist.sid
}

// CaughtUp reports whether the catch-up that started at join has finished
// (the caughtup marker with the catchup key was received). A host, which
// gets no catchup, is caught up from the start.
func (c *Client) CaughtUp() bool {
	if c.state != stateSession {
		return false
	}
	return c.catch.caughtUp || c.hosted && !c.catch.active
}

// CatchupProgress returns how many history messages arrived since the last
// catchup notice and how many it announced.
func (c *Client) CatchupProgress() (got, count int) { return c.catch.got, c.catch.count }

// Recv reads the next message in a session. Pings are answered and not
// returned; pongs and KeepAlives are not returned either. A Disconnect ends
// with a *DisconnectError, a clean close with io.EOF. ServerCommand JSON is
// parsed into Message.Reply; {"type":"error"} notices are returned as
// messages (in-session errors are not fatal).
func (c *Client) Recv(ctx context.Context) (Message, error) {
	for {
		f, err := c.t.ReadFrame(ctx)
		if err != nil {
			return Message{}, err
		}
		switch t := f.Type(); t {
		case typeServerCommand:
			r, err := ParseReply(f.Payload())
			if err != nil {
				return Message{}, err
			}
			m := Message{Frame: f, Reply: r, History: r.inHistory()}
			c.observeReply(r, m.History)
			return m, nil
		case typeDisconnect:
			return Message{}, parseDisconnect(f)
		case typePing:
			if err := c.answerPing(ctx, f); err != nil {
				return Message{}, err
			}
			if p := f.Payload(); len(p) == 1 && p[0] != 0 {
				return Message{Frame: f}, nil // pongs are returned: they make handy barriers
			}
		case typeKeepAlive:
		default:
			m := Message{Frame: f, History: isHistoryType(f)}
			c.observeMessage(f, m.History)
			return m, nil
		}
	}
}

// isHistoryType reports whether a non-ServerCommand message is a history
// entry: every type ≥ 32 except PrivateChat, ResetStream and bypass Chat.
func isHistoryType(f protocol.Frame) bool {
	t := f.Type()
	switch {
	case t < 32, t == typePrivateChat, t == typeResetStream:
		return false
	case t == typeChat:
		p := f.Payload()
		return len(p) == 0 || p[0]&1 == 0
	}
	return true
}

func (c *Client) observeMessage(f protocol.Frame, history bool) {
	switch f.Type() {
	case typeJoin:
		if name, ok := joinName(f.Payload()); ok {
			c.users[f.Ctx()] = name
		}
	case typeLeave:
		delete(c.users, f.Ctx())
	}
	if history {
		c.countHistory()
	}
}

func (c *Client) observeReply(r *Reply, history bool) {
	switch r.Type {
	case "catchup":
		c.catch = catchup{active: true, count: r.Count, hasKey: bytes.Contains(r.Raw, []byte(`"key"`)), key: r.Key}
		return
	case "status":
		if r.HidStar != "" {
			c.hist.set(r.HidStar)
		}
		return
	case "reset":
		if r.State == "reset" {
			// The history is replaced: a catchup for the new one follows,
			// which re-announces everyone.
			c.users = make(map[uint8]string)
			c.catch = catchup{active: true, hasKey: true, key: -1} // until the catchup arrives
		}
	}
	if !history {
		return
	}
	if r.Hidx != "" {
		c.hist.set(r.Hidx)
		c.countCatchup()
	} else {
		c.countHistory()
	}
	if r.Type == "caughtup" && c.catch.active && c.catch.hasKey && r.Key == c.catch.key {
		c.catch.active = false
		c.catch.caughtUp = true
	}
}

func (c *Client) countHistory() {
	if c.hist.valid {
		c.hist.pos++
	}
	c.countCatchup()
}

func (c *Client) countCatchup() {
	if !c.catch.active {
		return
	}
	c.catch.got++
	if !c.catch.hasKey && c.catch.got >= c.catch.count {
		c.catch.active = false
		c.catch.caughtUp = true
	}
}

// joinName extracts the name of a Join payload: flags u8, name length u8,
// name, avatar.
func joinName(p []byte) (string, bool) {
	if len(p) < 2 || int(p[1]) > len(p)-2 {
		return "", false
	}
	return string(p[2 : 2+int(p[1])]), true
}

// WaitCaughtUp reads messages until the catch-up has finished, calling fn
// (if not nil) for each message; an error from fn stops the wait.
func (c *Client) WaitCaughtUp(ctx context.Context, fn func(Message) error) error {
	for !c.CaughtUp() {
		m, err := c.Recv(ctx)
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// Send sends one message with the client's own context id (the server
// re-stamps it anyway).
func (c *Client) Send(ctx context.Context, t protocol.Type, payload []byte) error {
	return c.writeMessage(ctx, t, c.UserID(), payload)
}

// SendFrame sends a frame as it is (for initial snapshots that keep other
// users' context ids, and for tests that send deliberately odd frames).
func (c *Client) SendFrame(ctx context.Context, f protocol.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.t.WriteFrame(ctx, f)
}

// Ping sends a Ping (is_pong false); the server answers with a pong, which
// Recv returns.
func (c *Client) Ping(ctx context.Context) error { return c.Send(ctx, typePing, []byte{0}) }

// Chat flags (protocol.md §3.2).
const (
	ChatBypass = 0x1 // tflags: not stored in history
	ChatShout  = 0x1 // oflags
	ChatAction = 0x2
	ChatPin    = 0x4
	ChatAlert  = 0x8
	ChatRoll   = 0x10
)

// Chat sends a Chat message (stored in history).
func (c *Client) Chat(ctx context.Context, text string) error { return c.SendChat(ctx, 0, 0, text) }

// SendChat sends a Chat message with explicit transparent and opaque flags.
func (c *Client) SendChat(ctx context.Context, tflags, oflags uint8, text string) error {
	p := make([]byte, 0, 2+len(text))
	p = append(p, tflags, oflags)
	return c.Send(ctx, typeChat, append(p, text...))
}

// PrivateChat sends a private chat to one user.
func (c *Client) PrivateChat(ctx context.Context, target uint8, text string) error {
	p := make([]byte, 0, 2+len(text))
	p = append(p, target, 0)
	return c.Send(ctx, typePrivateChat, append(p, text...))
}

// SetOperators sends a SessionOwner message with the complete operator list.
func (c *Client) SetOperators(ctx context.Context, users []uint8) error {
	return c.Send(ctx, typeSessionOwner, users)
}

// SetTrusted sends a TrustedUsers message with the complete trusted list.
func (c *Client) SetTrusted(ctx context.Context, users []uint8) error {
	return c.Send(ctx, typeTrustedUsers, users)
}

// SessionConf holds the sessionconf kwargs (protocol.md §5.8); nil fields
// are not sent. Use Ptr to fill them.
type SessionConf struct {
	Title          *string `json:"title,omitempty"`
	Autotitle      *bool   `json:"autotitle,omitempty"`
	MaxUserCount   *int    `json:"maxUserCount,omitempty"`
	Password       *string `json:"password,omitempty"`
	Opword         *string `json:"opword,omitempty"`
	AuthOnly       *bool   `json:"authOnly,omitempty"`
	Persistent     *bool   `json:"persistent,omitempty"`
	PreserveChat   *bool   `json:"preserveChat,omitempty"`
	NSFM           *bool   `json:"nsfm,omitempty"`
	Deputies       *bool   `json:"deputies,omitempty"`
	ResetThreshold *int64  `json:"resetThreshold,omitempty"`
	AllowWeb       *bool   `json:"allowWeb,omitempty"`
	IdleOverride   *bool   `json:"idleOverride,omitempty"`
	Invites        *bool   `json:"invites,omitempty"`
	Unlisted       *bool   `json:"unlisted,omitempty"`
	Closed         *bool   `json:"closed,omitempty"`
}

// Ptr returns a pointer to v (for SessionConf fields).
func Ptr[T any](v T) *T { return &v }

func (sc SessionConf) kwargs() map[string]any {
	kw := map[string]any{}
	if sc.Title != nil {
		kw["title"] = *sc.Title
	}
	if sc.Autotitle != nil {
		kw["autotitle"] = *sc.Autotitle
	}
	if sc.MaxUserCount != nil {
		kw["maxUserCount"] = *sc.MaxUserCount
	}
	if sc.Password != nil {
		kw["password"] = *sc.Password
	}
	if sc.Opword != nil {
		kw["opword"] = *sc.Opword
	}
	if sc.ResetThreshold != nil {
		kw["resetThreshold"] = *sc.ResetThreshold
	}
	for _, b := range []struct {
		k string
		v *bool
	}{
		{"authOnly", sc.AuthOnly}, {"persistent", sc.Persistent}, {"preserveChat", sc.PreserveChat},
		{"nsfm", sc.NSFM}, {"deputies", sc.Deputies}, {"allowWeb", sc.AllowWeb},
		{"idleOverride", sc.IdleOverride}, {"invites", sc.Invites}, {"unlisted", sc.Unlisted},
		{"closed", sc.Closed},
	} {
		if b.v != nil {
			kw[b.k] = *b.v
		}
	}
	return kw
}

// SessionConf changes session properties (operators only).
func (c *Client) SessionConf(ctx context.Context, sc SessionConf) error {
	return c.SendCommand(ctx, Command{Cmd: "sessionconf", Kwargs: sc.kwargs()})
}

// Kick kicks a user by context id, optionally banning them.
func (c *Client) Kick(ctx context.Context, user int, ban bool) error {
	cmd := Command{Cmd: "kick-user", Args: []any{user}}
	if ban {
		cmd.Kwargs = map[string]any{"ban": true}
	}
	return c.SendCommand(ctx, cmd)
}

// RemoveBan lifts a session ban by its ban id (from the banlist).
func (c *Client) RemoveBan(ctx context.Context, banID int) error {
	return c.SendCommand(ctx, Command{Cmd: "remove-ban", Args: []any{banID}})
}

// Mute mutes or unmutes a user's chat.
func (c *Client) Mute(ctx context.Context, user int, mute bool) error {
	return c.SendCommand(ctx, Command{Cmd: "mute", Args: []any{user, mute}})
}

// GainOp asks for operator status with the session's opword.
func (c *Client) GainOp(ctx context.Context, opword string) error {
	return c.SendCommand(ctx, Command{Cmd: "gain-op", Args: []any{opword}})
}

// ResetSession starts a classic reset; typ is "current", "past" or
// "external" (empty: no kwargs).
func (c *Client) ResetSession(ctx context.Context, typ string) error {
	cmd := Command{Cmd: "reset-session"}
	if typ != "" {
		cmd.Kwargs = map[string]any{"type": typ}
	}
	return c.SendCommand(ctx, cmd)
}

// InitBegin, InitComplete and InitCancel frame an initial or reset upload.
func (c *Client) InitBegin(ctx context.Context) error {
	return c.SendCommand(ctx, Command{Cmd: "init-begin"})
}

// InitComplete ends the upload of an initial canvas or a reset image.
func (c *Client) InitComplete(ctx context.Context) error {
	return c.SendCommand(ctx, Command{Cmd: "init-complete"})
}

// InitCancel abandons a reset upload.
func (c *Client) InitCancel(ctx context.Context) error {
	return c.SendCommand(ctx, Command{Cmd: "init-cancel"})
}

// Initialize sends the frames of an initial canvas (as they are, keeping
// their context ids) followed by init-complete.
func (c *Client) Initialize(ctx context.Context, snapshot []protocol.Frame) error {
	for _, f := range snapshot {
		if err := c.SendFrame(ctx, f); err != nil {
			return err
		}
	}
	return c.InitComplete(ctx)
}

// InviteCreate asks for a new invite; the server answers with
// {"type":"invitecreated","secret":…}.
func (c *Client) InviteCreate(ctx context.Context, maxUses int, trust, op bool) error {
	kw := map[string]any{"maxUses": maxUses}
	if trust {
		kw["trust"] = true
	}
	if op {
		kw["op"] = true
	}
	return c.SendCommand(ctx, Command{Cmd: "invite-create", Kwargs: kw})
}

// InviteRemove deletes an invite.
func (c *Client) InviteRemove(ctx context.Context, secret string) error {
	return c.SendCommand(ctx, Command{Cmd: "invite-remove", Args: []any{secret}})
}

// ReadyToAutoreset answers an autoreset query.
func (c *Client) ReadyToAutoreset(ctx context.Context, payload string) error {
	return c.SendCommand(ctx, Command{Cmd: "ready-to-autoreset", Kwargs: map[string]any{
		"payload": payload, "capabilities": []string{"gzip1", "net"}, "os": c.info.OS,
		"net": 100.0, "pings": []float64{0.01},
	}})
}

// StreamResetStart starts a streamed reset with the correlator from the
// autoreset reply.
func (c *Client) StreamResetStart(ctx context.Context, correlator string) error {
	return c.SendCommand(ctx, Command{Cmd: "stream-reset-start", Args: []any{correlator}})
}

// StreamResetFinish ends a streamed reset; count is the number of messages
// in the image.
func (c *Client) StreamResetFinish(ctx context.Context, count int) error {
	return c.SendCommand(ctx, Command{Cmd: "stream-reset-finish", Args: []any{count}})
}

// StreamResetAbort cancels a streamed reset.
func (c *Client) StreamResetAbort(ctx context.Context) error {
	return c.SendCommand(ctx, Command{Cmd: "stream-reset-abort"})
}

// SendResetStream sends one ResetStream chunk.
func (c *Client) SendResetStream(ctx context.Context, chunk []byte) error {
	return c.Send(ctx, typeResetStream, chunk)
}

// EncodeResetStream compresses a reset image (frames in TCP framing) into
// one zlib stream and splits it into ResetStream-sized chunks (§3.6).
func EncodeResetStream(frames []protocol.Frame) ([][]byte, error) {
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	for _, f := range frames {
		if _, err := zw.Write(f); err != nil {
			return nil, fmt.Errorf("compress reset image: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress reset image: %w", err)
	}
	var chunks [][]byte
	for b := buf.Bytes(); len(b) > 0; {
		n := min(len(b), protocol.MaxPayload)
		chunks = append(chunks, b[:n])
		b = b[n:]
	}
	return chunks, nil
}

// Report reports a user or the session to the server's moderators.
func (c *Client) Report(ctx context.Context, user, reason string) error {
	return c.SendCommand(ctx, Command{Cmd: "report", Kwargs: map[string]any{"user": user, "reason": reason}})
}
