package sftpconn

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is an SSH server's host key that is not pinned for the
// payer: unknown (nothing pinned for the host) or changed (something else
// is pinned). It is never retried.
type HostKeyError struct {
	Payer       string
	Host        string // host:port dialled
	Fingerprint string // SHA256:... of the offered key
	KeyType     string
	Changed     bool // another key is pinned for the host
}

func (e *HostKeyError) Error() string {
	what := "is not pinned for this host (unknown host key)"
	if e.Changed {
		what = "does not match the pinned key (host key changed)"
	}
	return fmt.Sprintf("payer %s: host %s offered host key %s (%s), which %s: refused; check the key with the payer before pinning it (known_hosts or host_key)",
		e.Payer, e.Host, e.Fingerprint, e.KeyType, what)
}

// ParseHostKey reads one pinned key given as a known_hosts line
// ("host ssh-ed25519 AAAA...") or as "ssh-ed25519 AAAA...".
func ParseHostKey(line string) (ssh.PublicKey, error) {
	line = strings.TrimSpace(line)
	if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
		return k, nil
	}
	_, _, k, _, _, err := ssh.ParseKnownHosts([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("host key: not a known_hosts line or public key: %v", err)
	}
	return k, nil
}

// hostKeyCheck builds the host key callback and the host key algorithms
// to ask for. The algorithms follow the pinned keys' types: x/crypto/ssh
// otherwise prefers ECDSA, and a server with both an ECDSA and a pinned
// ED25519 key would look changed.
func hostKeyCheck(payer, addr string, pinned []ssh.PublicKey, knownHostsFile string) (ssh.HostKeyCallback, []string, error) {
	var kh ssh.HostKeyCallback
	types := map[string]bool{}
	for _, k := range pinned {
		types[k.Type()] = true
	}
	if knownHostsFile != "" {
		var err error
		if kh, err = knownhosts.New(knownHostsFile); err != nil {
			return nil, nil, fmt.Errorf("payer %s: known_hosts: %w", payer, err)
		}
		// Ask the database which keys it has for the host by offering a
		// key it cannot know.
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		probe, _ := ssh.NewSignerFromKey(priv)
		var ke *knownhosts.KeyError
		if err := kh(addr, &net.TCPAddr{IP: net.IPv4zero}, probe.PublicKey()); errors.As(err, &ke) {
			for _, w := range ke.Want {
				types[w.Key.Type()] = true
			}
		}
	}
	// Nothing pinned for this host (known_hosts holds keys for others
	// only): connect anyway, so the refusal can name the key the server
	// offers, which the operator checks with the payer before pinning it.
	if len(types) == 0 {
		return pinnedKeyCallback(payer, addr, pinned, kh), anyHostKey, nil
	}
	var algos []string
	for t := range types {
		if t == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
		}
		algos = append(algos, t)
	}
	return pinnedKeyCallback(payer, addr, pinned, kh), algos, nil
}

// anyHostKey are the host key algorithms asked for when nothing is pinned
// for the host: ED25519 first, the key payers most often publish.
var anyHostKey = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}

// pinnedKeyCallback accepts a key that is pinned or in the known_hosts database and
// refuses any other with a HostKeyError.
func pinnedKeyCallback(payer, addr string, pinned []ssh.PublicKey, kh ssh.HostKeyCallback) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		for _, k := range pinned {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return nil
			}
		}
		changed := len(pinned) > 0
		if kh != nil {
			err := kh(hostname, remote, key)
			if err == nil {
				return nil
			}
			var ke *knownhosts.KeyError
			if errors.As(err, &ke) && len(ke.Want) > 0 {
				changed = true
			}
		}
		return &HostKeyError{Payer: payer, Host: addr, Fingerprint: ssh.FingerprintSHA256(key), KeyType: key.Type(), Changed: changed}
	}
}
