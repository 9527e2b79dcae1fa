package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// sftpHook is passed to the connector as its crash-point hook; tests set
// it in a child process to kill it at an exact point.
var sftpHook func(stage string)

var sftpSendCmd = command{
	name:     "sftp send",
	synopsis: "claimgate sftp send --payer ID [--config FILE] [--state DIR] FILE...",
	about: `Upload files to a payer's SFTP outbound folder, each under a temporary name,
synced and size-checked before it is renamed, so the payer never sees a
partial file. A ledger in the state directory records each file (payer, name,
SHA-256): a file already sent is not sent again, even after a crash or a
retry. The payer's host, keys, pinned host key and folders come from the
"sftp" block of its entry in the configuration (docs/sftp.md).`,
	exits: `  0  every file was sent (or had been sent before)
  1  some file failed (the error says which and why)
  2  usage, configuration, login, host key or local I/O error`,
}

var sftpFetchCmd = command{
	name:     "sftp fetch",
	synopsis: "claimgate sftp fetch --payer ID -o DIR [--config FILE] [--state DIR]",
	about: `Collect the payer's response files (999, 277CA, 835, ...) once: list the
inbound folder twice (settle_time apart), download each settled file that
matches "collect", verify its size, store it under its SHA-256 in the state
directory, write it to DIR under its remote name (never replacing a file:
a different file of the same name gets the digest prefix appended), and only
then delete it remotely (or move it to archive_dir). A file whose content was
fetched before is removed remotely but not written again.`,
	exits: `  0  every settled file was fetched (or had been before)
  1  some file failed (the error says why)
  2  usage, configuration, login, host key or local I/O error`,
}

const sftpUsage = `Usage:
  claimgate sftp send --payer ID [--config FILE] [--state DIR] FILE...
  claimgate sftp fetch --payer ID -o DIR [--config FILE] [--state DIR]
(claimgate sftp send --help and claimgate sftp fetch --help say more.)
`

func cmdSFTP(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("sftp needs send or fetch\n%s", sftpUsage)
	}
	switch args[0] {
	case "send":
		return cmdSFTPSend(args[1:], stdout, stderr)
	case "fetch":
		return cmdSFTPFetch(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, sftpUsage)
		return errHelpShown
	}
	return usageErr("sftp: unknown command %q\n%s", args[0], sftpUsage)
}

// sftpFlags are the flags send and fetch share.
type sftpFlags struct {
	payer, config, state *string
	verbose              *bool
}

func addSFTPFlags(c *command, stderr io.Writer) (*sftpFlags, *flag.FlagSet) {
	fs := c.flags(stderr)
	f := &sftpFlags{
		payer:   fs.String("payer", "", "payer id, as in the configuration (required)"),
		config:  fs.String("config", "", "claimgate configuration file (default: $CLAIMGATE_CONFIG, else ./claimgate.json)"),
		state:   fs.String("state", "", "state directory for the ledger and the inbox (default: $XDG_STATE_HOME/claimgate or ~/.local/state/claimgate)"),
		verbose: fs.Bool("v", false, "log each transfer and retry to standard error"),
	}
	return f, fs
}

// sftpSetup loads the configuration and opens the ledger and the client.
func sftpSetup(f *sftpFlags, stderr io.Writer) (*sftpconn.Client, *ledger.Dir, string, error) {
	if *f.payer == "" {
		return nil, nil, "", usageErr("--payer is required")
	}
	path := *f.config
	if path == "" {
		path = os.Getenv("CLAIMGATE_CONFIG")
	}
	if path == "" {
		path = "claimgate.json"
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, "", &exitError{code: 2, err: err}
	}
	cp, err := cfg.SFTPPayer(*f.payer)
	if err != nil {
		return nil, nil, "", &exitError{code: 2, err: fmt.Errorf("%s: %w", path, err)}
	}
	p, err := sftpconn.FromConfig(cp)
	if err != nil {
		return nil, nil, "", &exitError{code: 2, err: err}
	}
	state := *f.state
	if state == "" {
		if state, err = defaultStateDir(); err != nil {
			return nil, nil, "", &exitError{code: 2, err: err}
		}
	}
	led, err := ledger.OpenDir(filepath.Join(state, "sftp-ledger"))
	if err != nil {
		return nil, nil, "", &exitError{code: 2, err: err}
	}
	// Take the payer's journal (and its lock) now: a second run for the
	// same payer stops here with a clear error.
	if _, err := led.Pending(context.Background(), p.ID); err != nil {
		led.Close()
		return nil, nil, "", &exitError{code: 2, err: err}
	}
	level := slog.LevelWarn
	if *f.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	c, err := sftpconn.New(p, led, log)
	if err != nil {
		led.Close()
		return nil, nil, "", &exitError{code: 2, err: err}
	}
	c.Hook = sftpHook
	// One inbox per payer: ids are checked like remote names.
	if err := sftpconn.CheckName(p.ID); err != nil {
		led.Close()
		return nil, nil, "", &exitError{code: 2, err: fmt.Errorf("payer id %q cannot name a directory: %w", p.ID, err)}
	}
	c.Inbox = filepath.Join(state, "inbox", p.ID)
	return c, led, state, nil
}

// defaultStateDir is $XDG_STATE_HOME/claimgate or ~/.local/state/claimgate.
func defaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "claimgate"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: give --state DIR (%w)", err)
	}
	return filepath.Join(home, ".local", "state", "claimgate"), nil
}

func sftpContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// fatalConn reports errors that end the whole run: no file can succeed.
func fatalConn(err error) bool { return sftpconn.Refused(err) }

func cmdSFTPSend(args []string, stdout, stderr io.Writer) error {
	c := &sftpSendCmd
	f, fs := addSFTPFlags(c, stderr)
	files, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr("sftp send needs at least one FILE (usage: %s)", c.synopsis)
	}
	client, led, _, err := sftpSetup(f, stderr)
	if err != nil {
		return err
	}
	defer led.Close()
	defer client.Close()
	ctx, cancel := sftpContext()
	defer cancel()

	type result struct {
		s   sftpconn.Sent
		err error
	}
	results := make([]result, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range client.Payer().MaxTransfers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := client.SendFile(ctx, files[i])
				results[i] = result{s, err}
				if err != nil && fatalConn(err) {
					cancel() // no later file can get through either
				}
			}
		}()
	}
	for i := range files {
		if ctx.Err() != nil {
			results[i].err = ctx.Err()
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	failed := false
	for i, r := range results {
		switch {
		case r.err != nil && fatalConn(r.err):
			return &exitError{code: 2, err: r.err}
		case r.err != nil:
			fmt.Fprintf(stderr, "claimgate: %s: %v\n", files[i], r.err)
			failed = true
		case r.s.Already:
			fmt.Fprintf(stdout, "already sent %s (sha256 %s)\n", files[i], r.s.Digest[:12])
		default:
			fmt.Fprintf(stdout, "sent %s (%d bytes, sha256 %s)\n", files[i], r.s.Size, r.s.Digest[:12])
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

func cmdSFTPFetch(args []string, stdout, stderr io.Writer) error {
	c := &sftpFetchCmd
	f, fs := addSFTPFlags(c, stderr)
	outDir := fs.String("o", "", "directory the fetched files are written to (required)")
	ops, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(ops) > 0 {
		return usageErr("sftp fetch takes no FILE operands (usage: %s)", c.synopsis)
	}
	if *outDir == "" {
		return usageErr("sftp fetch needs -o DIR (usage: %s)", c.synopsis)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return &exitError{code: 2, err: err}
	}
	client, led, _, err := sftpSetup(f, stderr)
	if err != nil {
		return err
	}
	defer led.Close()
	defer client.Close()
	ctx, cancel := sftpContext()
	defer cancel()
	var mu sync.Mutex
	res, err := client.Fetch(ctx, func(_ context.Context, d sftpconn.Delivery) error {
		dst, err := placeFile(d, *outDir)
		if err != nil {
			return err
		}
		mu.Lock()
		fmt.Fprintf(stdout, "fetched %s (%d bytes, sha256 %s)\n", dst, d.Size, d.Digest[:12])
		mu.Unlock()
		return nil
	})
	if res.Duplicates > 0 {
		fmt.Fprintf(stdout, "%d file(s) fetched before: removed remotely, not written again\n", res.Duplicates)
	}
	if res.Unsettled > 0 {
		fmt.Fprintf(stdout, "%d file(s) still being written at the payer: left for the next fetch\n", res.Unsettled)
	}
	if res.BadNames > 0 {
		fmt.Fprintf(stderr, "claimgate: %d remote file(s) with unsafe names skipped (path separators, control bytes, \".\"/\"..\" or over 255 bytes)\n", res.BadNames)
	}
	switch {
	case err != nil && (fatalConn(err) || res.HandedOn+res.Duplicates+res.Failed == 0):
		return &exitError{code: 2, err: err}
	case err != nil:
		return &exitError{code: 1, err: err}
	case res.BadNames > 0:
		return &exitError{code: 1}
	}
	return nil
}

// placeFile puts the inbox copy into dir under its remote name, never
// replacing a file: the same content there already counts as placed, a
// different file of that name makes it NAME.<digest prefix>.
func placeFile(d sftpconn.Delivery, dir string) (string, error) {
	for _, name := range []string{d.RemoteName, d.RemoteName + "." + d.Digest[:12]} {
		dst := filepath.Join(dir, name)
		err := linkOrCopy(d.Path, dst)
		if err == nil {
			return dst, syncDir(dir)
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
		if same, _ := sameContent(dst, d.Size, d.Digest); same {
			return dst, nil
		}
	}
	return "", fmt.Errorf("%s: both the remote name and the digest-suffixed name are taken by other files", dir)
}

// linkOrCopy hard-links src to dst, or copies it (temp file, fsync, link)
// across file systems; it fails with os.ErrExist rather than replace.
func linkOrCopy(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil || errors.Is(err, os.ErrExist) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".claimgate-*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), dst)
}

// sameContent reports whether the file at p has the given SHA-256.
func sameContent(p string, size int64, digest string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != size {
		return false, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == digest, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
