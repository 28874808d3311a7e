package e2e

import (
	"testing"
	"time"

	"drawbridge/internal/client"
)

// TestAdminChatTwoWay: an administrator connected to a session's chat
// through the admin API sees what users say in it.
func TestAdminChatTwoWay(t *testing.T) {
	e := newAdminEnv(t, "admin", "pw")
	host := e.login("Painter", client.LoginOptions{Host: &client.HostOptions{Alias: "talk"}})
	if st, _ := e.call("POST", "/api/sessions/talk/chat", map[string]any{"message": "Hello from the admin"}, nil); st != 200 {
		t.Fatalf("connect admin chat: status %d", st)
	}
	if err := host.Chat(e.ctx, "hi admin"); err != nil {
		t.Fatal(err)
	}
	type line struct {
		ID   *int   `json:"i"`
		Name string `json:"n"`
		Text string `json:"m"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got struct {
			Messages []line `json:"messages"`
		}
		if st, _ := e.call("GET", "/api/sessions/talk/chat?offset=0", nil, &got); st != 200 {
			t.Fatalf("poll admin chat: status %d", st)
		}
		for _, l := range got.Messages {
			if l.Text == "hi admin" {
				if l.Name != "Painter" || l.ID == nil || *l.ID != int(host.UserID()) {
					t.Errorf("user line %+v, want name Painter and id %d", l, host.UserID())
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("user's chat never reached the admin chat: %+v", got.Messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
