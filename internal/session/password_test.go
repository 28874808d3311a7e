package session

import (
	"strings"
	"testing"
)

// Session passwords are stored in drawpile-srv's formats so that session
// files stay interchangeable with drawpile-srv.
func TestSessionPasswordHashFormat(t *testing.T) {
	h := hashPassword("hunter2")
	if !strings.HasPrefix(string(h), "pbkdf2;1;") {
		t.Fatalf("hash %q is not in drawpile-srv's pbkdf2 format", h)
	}
	if !checkPassword(h, "hunter2") {
		t.Error("correct password rejected")
	}
	if checkPassword(h, "hunter3") {
		t.Error("wrong password accepted")
	}
	if hashPassword("") != nil {
		t.Error("empty password must have no hash")
	}
	if checkPassword([]byte("plain;open sesame"), "open sesame") != true {
		t.Error("drawpile-srv plain; hash not accepted")
	}
	if checkPassword(nil, "") {
		t.Error("no hash must not match (callers treat 'no password' separately)")
	}
}
