package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/claimgate/claimgate/pkg/payersim"
	"golang.org/x/crypto/ssh"
)

var payerSimCmd = command{
	name:     "payer-sim",
	synopsis: "claimgate payer-sim --config FILE --data DIR [--listen ADDR] [--authorized-keys FILE | --password-file FILE] [flags]\n       claimgate payer-sim --config FILE --payer ID -o DIR 837P-FILE...",
	about: `Simulate payers over SFTP, so a billing company can test its own systems (or
claimgate) end to end without a real payer.

The server listens on --listen (loopback by default) and prints the known_hosts
line that pins its ed25519 host key (generated on first start and kept in
--data). Log in as --user with a key from --authorized-keys or the password in
--password-file. Each payer of the configuration has a folder with an inbound
and an outbound folder:

  /PAYER/inbound    upload 837P files here: write a temporary name (.name or
                    name.part), then rename it to its final name
  /PAYER/outbound   responses appear here, each written whole under its final
                    name: a 999 (or a TA1 when the envelope cannot be read),
                    a 277CA per accepted transaction set and an 835 for the
                    payment cycle, after the payer's configured delays

Point your systems at it as at a payer's drop folder. Pin the printed host key
line (your client's known_hosts), log in as --user, put 837P files into
/PAYER/inbound and collect responses from /PAYER/outbound:

  OpenSSH    sftp -P PORT -i KEY -o UserKnownHostsFile=FILE USER@127.0.0.1
             (FILE holds the printed line)
  claimgate  the payer's "sftp" block in claimgate.json (docs/sftp.md); the
             simulator's inbound folder is your outbound_dir and the other
             way round:
               "sftp": {"host": "127.0.0.1", "port": PORT, "user": "claimgate",
                        "private_key": "file:/path/to/KEY",
                        "host_key": "THE PRINTED LINE",
                        "outbound_dir": "/PAYER/inbound",
                        "inbound_dir": "/PAYER/outbound", "settle_time": "1s"}
             then claimgate sftp send / sftp fetch --payer ID, or serve.

Decisions (rejections, denials, reductions, reversals) follow the payer's rules
and fee schedule in --config and are the same for the same --seed. See
docs/payersim.md for the configuration, the rules and the response file names.

With --payer and -o, the named 837P files are answered once, without SFTP:
the responses are written into the -o directory.`,
	exits: `  0  stopped by SIGINT/SIGTERM, or every file answered (--payer mode)
  1  a file could not be answered (--payer mode)
  2  usage, configuration or I/O error`,
}

func cmdPayerSim(args []string, stdout, stderr io.Writer) error {
	c := &payerSimCmd
	fs := c.flags(stderr)
	cfgPath := fs.String("config", "", "payer simulator configuration (JSON; see deploy/payersim.example.json); without it two example payers")
	dataDir := fs.String("data", "", "data directory: host key, SFTP root, queued and processed files (required for the server)")
	listen := fs.String("listen", payersim.DefaultListen, "address to listen on (host:port)")
	seed := fs.Int64("seed", 0, "seed for random decisions (default: the configuration's seed)")
	user := fs.String("user", "claimgate", "SFTP login name")
	keysPath := fs.String("authorized-keys", "", "authorized_keys file with the public keys allowed to log in")
	passPath := fs.String("password-file", "", "file holding the login password (first line)")
	payer := fs.String("payer", "", "answer the 837P files given as operands as this payer id, without SFTP")
	outDir := fs.String("o", "", "directory for the responses (with --payer)")
	files, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	cfg := payersim.ExampleConfig()
	if *cfgPath != "" {
		if cfg, err = payersim.LoadConfig(*cfgPath); err != nil {
			return usageErr("%v", err)
		}
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	opts := payersim.Options{Seed: cfg.Seed}
	if seedSet {
		opts.Seed = *seed
	}
	sim, err := payersim.New(cfg, opts)
	if err != nil {
		return usageErr("%v", err)
	}
	if *payer != "" {
		return payerSimOnce(sim, *payer, *outDir, files, stdout)
	}
	if len(files) > 0 {
		return usageErr("payer-sim takes 837P files only with --payer and -o (see claimgate payer-sim --help)")
	}
	if *dataDir == "" {
		return usageErr("payer-sim needs --data DIR (see claimgate payer-sim --help)")
	}
	so := payersim.ServerOptions{DataDir: *dataDir, Listen: *listen, User: *user,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }}
	if *keysPath != "" {
		if so.AuthorizedKeys, err = readAuthorizedKeys(*keysPath); err != nil {
			return usageErr("%v", err)
		}
	}
	if *passPath != "" {
		b, err := os.ReadFile(*passPath)
		if err != nil {
			return usageErr("%v", err)
		}
		so.Password, _, _ = strings.Cut(string(b), "\n")
		so.Password = strings.TrimRight(so.Password, "\r")
		if so.Password == "" {
			return usageErr("%s: the password is empty", *passPath)
		}
	}
	if len(so.AuthorizedKeys) == 0 && so.Password == "" {
		return usageErr("payer-sim needs --authorized-keys or --password-file: nobody could log in")
	}
	srv, err := payersim.NewServer(sim, so)
	if err != nil {
		return usageErr("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	addr, line, err := srv.Start(ctx)
	if err != nil {
		return usageErr("%v", err)
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "payer-sim: listening on %s, user %s\n", addr, *user)
	fmt.Fprintf(stdout, "payer-sim: host key for known_hosts:\n%s\n", line)
	for _, p := range cfg.Payers {
		fmt.Fprintf(stdout, "payer-sim: payer %s (%s): upload to /%s/%s, responses in /%s/%s\n", p.ID, p.Name, p.Folder, p.Inbound, p.Folder, p.Outbound)
	}
	if f, ok := stdout.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return err
		}
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "payer-sim: stopping")
	// Close saves the paid claims' state; a failure is the run's.
	return srv.Close()
}

func readAuthorizedKeys(path string) ([]ssh.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []ssh.PublicKey
	for len(bytes.TrimSpace(b)) > 0 {
		k, _, _, rest, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		keys = append(keys, k)
		b = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys", path)
	}
	return keys, nil
}

// payerSimOnce answers 837P files without SFTP.
func payerSimOnce(sim *payersim.Simulator, payer, outDir string, files []string, stdout io.Writer) error {
	if outDir == "" || len(files) == 0 {
		return usageErr("--payer needs -o DIR and at least one 837P file (see claimgate payer-sim --help)")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return usageErr("%v", err)
	}
	failed := 0
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return usageErr("%v", err)
		}
		res, err := sim.Process(context.Background(), payer, bytes.NewReader(b), filepath.Base(name))
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", name, err)
			failed++
			continue
		}
		for _, f := range res.Files {
			path := filepath.Join(outDir, f.Name)
			if err := writeExclusive(path, f.Data); err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(stdout, "%s: %s %s (due after %s)\n", name, f.Type, path, f.Delay)
		}
		counts := map[string]int{}
		for _, o := range res.Claims {
			switch {
			case !o.Accepted999:
				counts["rejected (999)"]++
			case o.CLP02 == "":
				counts["rejected (277CA)"]++
			case o.CLP02 == "4":
				counts["denied"]++
			case len(o.Adjustments) > 0:
				counts["partly paid"]++
			default:
				counts["paid"]++
			}
		}
		fmt.Fprintf(stdout, "%s: %d claims: %d paid, %d partly paid, %d denied, %d rejected (277CA), %d rejected (999)\n", name, len(res.Claims),
			counts["paid"], counts["partly paid"], counts["denied"], counts["rejected (277CA)"], counts["rejected (999)"])
	}
	if failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// writeExclusive writes a new file and never replaces one.
func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return errors.Join(err, os.Remove(path))
	}
	return nil
}
