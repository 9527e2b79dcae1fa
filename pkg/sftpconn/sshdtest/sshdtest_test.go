package sshdtest

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestStartConnectKill(t *testing.T) {
	s := Start(t)
	c, err := ssh.Dial("tcp", s.Addr, s.ClientConfig())
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, s.Log())
	}
	if n := s.KillSessions(); n == 0 {
		t.Fatal("KillSessions found no session process")
	}
	if err := c.Wait(); err == nil {
		t.Fatal("connection survived its session process")
	}
	// The listener still serves new connections.
	c2, err := ssh.Dial("tcp", s.Addr, s.ClientConfig())
	if err != nil {
		t.Fatalf("dial after kill: %v", err)
	}
	c2.Close()
	s.Stop()
	if _, err := ssh.Dial("tcp", s.Addr, s.ClientConfig()); err == nil {
		t.Fatal("dial after Stop succeeded")
	}
}
