package session

import (
	"drawbridge/protocol"
)

// Hand-encoded server meta messages (protocol.md §3.1). Layouts:
//
//	1  Disconnect    reason:u8, message:utf8
//	2  Ping          is_pong:u8
//	3  KeepAlive     (empty)
//	32 Join          flags:u8, name_len:u8, name:utf8, avatar:bytes
//	33 Leave         (empty)
//	34 SessionOwner  users:u8*
//	35 Chat          tflags:u8, oflags:u8, message:utf8
//	36 TrustedUsers  users:u8*
//	37 SoftReset     (empty)
//	38 PrivateChat   target:u8, oflags:u8, message:utf8
const (
	typeServerCommand protocol.Type = 0
	typeDisconnect    protocol.Type = 1
	typePing          protocol.Type = 2
	typeKeepAlive     protocol.Type = 3
	typeThumbnail     protocol.Type = 4
	typeJoin          protocol.Type = 32
	typeLeave         protocol.Type = 33
	typeSessionOwner  protocol.Type = 34
	typeChat          protocol.Type = 35
	typeTrustedUsers  protocol.Type = 36
	typeSoftReset     protocol.Type = 37
	typePrivateChat   protocol.Type = 38
	typeResetStream   protocol.Type = 39
)

// Disconnect reasons.
const (
	disconnectError    = 0
	disconnectKick     = 1
	disconnectShutdown = 2
	disconnectOther    = 3
)

// Join flags.
const (
	joinAuth = 0x1
	joinMod  = 0x2
	joinBot  = 0x4
	joinOld  = 0x8
)

// Chat transparent flags.
const chatBypass = 0x1

func mustFrame(t protocol.Type, ctx uint8, payload []byte) protocol.Frame {
	if len(payload) > protocol.MaxPayload {
		payload = payload[:protocol.MaxPayload]
	}
	f, _ := protocol.NewFrame(t, ctx, payload) // cannot fail: payload ≤ MaxPayload
	return f
}

func disconnectFrame(reason uint8, msg string) protocol.Frame {
	return mustFrame(typeDisconnect, 0, append([]byte{reason}, msg...))
}

func pingFrame(pong bool) protocol.Frame {
	b := byte(0)
	if pong {
		b = 1
	}
	return mustFrame(typePing, 0, []byte{b})
}

func keepAliveFrame() protocol.Frame { return mustFrame(typeKeepAlive, 0, nil) }

// joinFrame encodes Join; the name is truncated to 255 bytes and the
// avatar dropped if it does not fit.
func joinFrame(ctx, flags uint8, name string, avatar []byte) protocol.Frame {
	if len(name) > 255 {
		name = name[:255]
	}
	p := make([]byte, 0, 2+len(name)+len(avatar))
	p = append(p, flags, byte(len(name)))
	p = append(p, name...)
	if len(p)+len(avatar) <= protocol.MaxPayload {
		p = append(p, avatar...)
	}
	return mustFrame(typeJoin, ctx, p)
}

func leaveFrame(ctx uint8) protocol.Frame { return mustFrame(typeLeave, ctx, nil) }

func userListFrame(t protocol.Type, ctx uint8, users []uint8) protocol.Frame {
	return mustFrame(t, ctx, append([]byte(nil), users...))
}

func chatFrame(ctx, tflags, oflags uint8, msg string) protocol.Frame {
	return mustFrame(typeChat, ctx, append([]byte{tflags, oflags}, msg...))
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
