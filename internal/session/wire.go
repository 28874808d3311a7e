package session

import (
	"drawbridge/protocol"
)

// Message types the server handles itself (protocol.md §1.4, §5.1).
const (
	typeServerCommand = protocol.TypeServerCommand
	typeDisconnect    = protocol.TypeDisconnect
	typePing          = protocol.TypePing
	typeKeepAlive     = protocol.TypeKeepAlive
	typeThumbnail     = protocol.TypeThumbnail
	typeJoin          = protocol.TypeJoin
	typeLeave         = protocol.TypeLeave
	typeSessionOwner  = protocol.TypeSessionOwner
	typeChat          = protocol.TypeChat
	typeTrustedUsers  = protocol.TypeTrustedUsers
	typeSoftReset     = protocol.TypeSoftReset
	typePrivateChat   = protocol.TypePrivateChat
	typeResetStream   = protocol.TypeResetStream
)

// Disconnect reasons (Disconnect.reason).
const (
	disconnectError    = 0
	disconnectKick     = 1
	disconnectShutdown = 2
)

// Join flags.
const (
	joinAuth = 0x1
	joinMod  = 0x2
	joinOld  = 0x8
)

// Chat transparent flags.
const chatBypass = 0x1

// encode encodes a server meta message (layouts identical in 4.24 and
// 4.25). The server only builds messages that fit, so an error means a bug;
// it yields an empty frame of the same type rather than a panic.
func encode(ctx uint8, m protocol.Message) protocol.Frame {
	f, err := protocol.EncodeFrame(ctx, m, protocol.Layout425)
	if err != nil {
		f, _ = protocol.NewFrame(m.MessageType(), ctx, nil)
	}
	return f
}

func mustFrame(t protocol.Type, ctx uint8, payload []byte) protocol.Frame {
	if len(payload) > protocol.MaxPayload {
		payload = payload[:protocol.MaxPayload]
	}
	f, _ := protocol.NewFrame(t, ctx, payload) // cannot fail: payload ≤ MaxPayload
	return f
}

func disconnectFrame(reason uint8, msg string) protocol.Frame {
	if len(msg) > protocol.MaxPayload-1 {
		msg = msg[:protocol.MaxPayload-1]
	}
	return encode(0, protocol.Disconnect{Reason: reason, Message: msg})
}

func pingFrame(pong bool) protocol.Frame { return encode(0, protocol.Ping{IsPong: pong}) }

func keepAliveFrame() protocol.Frame { return encode(0, protocol.KeepAlive{}) }

// joinFrame encodes Join; the name is truncated to 255 bytes and the
// avatar dropped if it does not fit.
func joinFrame(ctx, flags uint8, name string, avatar []byte) protocol.Frame {
	if len(name) > 255 {
		name = name[:255]
	}
	if 2+len(name)+len(avatar) > protocol.MaxPayload {
		avatar = nil
	}
	return encode(ctx, protocol.Join{Flags: flags, Name: name, Avatar: avatar})
}

func leaveFrame(ctx uint8) protocol.Frame { return encode(ctx, protocol.Leave{}) }

func userListFrame(t protocol.Type, ctx uint8, users []uint8) protocol.Frame {
	if t == typeTrustedUsers {
		return encode(ctx, protocol.TrustedUsers{Users: users})
	}
	return encode(ctx, protocol.SessionOwner{Users: users})
}

// jsonFrame encodes a server→client JSON message; a message that does not
// fit (cannot happen for the fixed-size notices) becomes an empty object.
func jsonFrame(v any) protocol.Frame {
	f, err := protocol.JSONFrame(v)
	if err != nil {
		return mustFrame(typeServerCommand, 0, []byte(`{}`))
	}
	return f
}
