package sftpconn

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/sftpconn/sshdtest"
	"golang.org/x/crypto/ssh"
)

// The benchmarks move the same files through the same local sshd with
// claimgate's connector and with OpenSSH's sftp client in batch mode.
// claimgate's figures include what OpenSSH's do not: the SHA-256 of every
// file, the ledger's fsynced records, fsync@openssh.com on each upload,
// the rename, and the remote delete after each download; OpenSSH's
// "sftp -f" (fsync after put) is shown too. Each iteration connects anew,
// as one command run does. Run with:
//
//	go test -run '^$' -bench . -benchtime 3x -count 3 ./pkg/sftpconn/
type benchEnv struct {
	srv      *sshdtest.Server
	src      string // local files to upload
	remote   string // remote folder (uploads land, downloads come from)
	names    []string
	total    int64
	batchDir string
	trash    string // earlier remote folders (clearRemote), removed at the end
	trashed  int
	cpu      time.Duration // OpenSSH client CPU time
	busy     time.Duration // the machine's CPU time in the timed parts (machineBusy)
}

func newBenchEnv(b *testing.B, n, size int) *benchEnv {
	if _, err := exec.LookPath("sftp"); err != nil {
		b.Skip("OpenSSH sftp client not installed")
	}
	e := &benchEnv{srv: sshdtest.Start(b), src: b.TempDir(), remote: b.TempDir(), batchDir: b.TempDir(), trash: b.TempDir()}
	for i := range n {
		name := fmt.Sprintf("F%05d.x12", i)
		randomFile(b, e.src, name, size)
		e.names = append(e.names, name)
		e.total += int64(size)
	}
	return e
}

func (e *benchEnv) payer(remote string) Payer {
	return Payer{ID: "BENCH", Addr: e.srv.Addr, User: "root",
		Auth:     []ssh.AuthMethod{ssh.PublicKeys(e.srv.UserSigner)},
		HostKeys: []ssh.PublicKey{e.srv.HostKey}, OutboundDir: remote, InboundDir: remote,
		MaxTransfers: benchInt("XMT", 32), Sessions: benchInt("XSESS", 8), MaxPacket: benchInt("XPKT", 0), WindowBytes: benchInt("XWIN", 0), Attempts: 1}
}

// openssh runs OpenSSH's sftp client on a batch file.
func (e *benchEnv) openssh(b *testing.B, batch string, extra ...string) {
	bf := filepath.Join(e.batchDir, "batch")
	os.WriteFile(bf, []byte(batch), 0o600)
	args := append([]string{"-q", "-b", bf, "-i", e.srv.UserKeyFile, "-o", "UserKnownHostsFile=" + e.srv.KnownHostsFile,
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-P", fmt.Sprint(e.srv.Port)}, extra...)
	args = append(args, "root@127.0.0.1")
	cmd := exec.Command("sftp", args...)
	m0 := machineBusy()
	out, err := cmd.CombinedOutput()
	e.busy += machineBusy() - m0
	if err != nil {
		b.Fatalf("sftp: %v\n%s", err, out)
	}
	e.cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the client's CPU time per operation, less disturbed
// by other load on the machine than the wall-clock figures, and the
// machine's (e.busy): on a quiet machine the whole cost of a transfer,
// client, sshd, sftp-server and the kernel's own threads (the file
// system's journal), which bounds the throughput once the cores are busy.
func (e *benchEnv) reportCPU(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(d.Milliseconds())/float64(b.N), "client-cpu-ms/op")
	b.ReportMetric(float64(e.busy.Milliseconds())/float64(b.N), "machine-cpu-ms/op")
	e.busy = 0
}

// machineBusy is the CPU time all cores of the machine spent not idle
// (from /proc/stat; 0 where there is none).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f {
		if i == 0 || i == 4 || i == 5 || i > 8 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// clearRemote empties the remote folder by moving it into a trash folder
// that is removed only when the benchmark ends. Removing the files here
// would tax the next iteration's file creations, both clients' alike: on
// an ext4 without a journal (this project's CI and development VMs) the
// inode allocator skips every inode freed in the last 30 seconds, reading
// its inode table block (ext4 recently_deleted), so a create right after
// 1,000 removals scans past them: 10 to 800 us of CPU per file, most of
// the machine's work in a small-file run and none of either client's.
func (e *benchEnv) clearRemote(b *testing.B) {
	e.trashed++
	if err := os.Rename(e.remote, filepath.Join(e.trash, strconv.Itoa(e.trashed))); err != nil && !os.IsNotExist(err) {
		b.Fatal(err)
	}
	if err := os.MkdirAll(e.remote, 0o755); err != nil {
		b.Fatal(err)
	}
}

// fillRemote copies the source files into the remote folder, settled.
func (e *benchEnv) fillRemote(b *testing.B) {
	e.clearRemote(b)
	old := time.Now().Add(-time.Minute)
	for _, n := range e.names {
		data, _ := os.ReadFile(filepath.Join(e.src, n))
		p := filepath.Join(e.remote, n)
		os.WriteFile(p, data, 0o644)
		os.Chtimes(p, old, old)
	}
}

func benchUpload(b *testing.B, n, size int) {
	e := newBenchEnv(b, n, size)
	b.Run("claimgate", func(b *testing.B) {
		b.SetBytes(e.total)
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			e.clearRemote(b)
			led, err := ledger.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			t0, m0 := selfCPU(), machineBusy()
			c, err := New(e.payer(e.remote), led, nil)
			if err != nil {
				b.Fatal(err)
			}
			// As claimgate sftp send does: max_transfers workers.
			next := make(chan string)
			errs := make(chan error, len(e.names))
			for range c.Payer().MaxTransfers {
				go func() {
					for name := range next {
						_, err := c.SendFile(context.Background(), filepath.Join(e.src, name))
						errs <- err
					}
				}()
			}
			for _, name := range e.names {
				next <- name
			}
			close(next)
			for range e.names {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
			b.StopTimer()
			cpu += selfCPU() - t0
			e.busy += machineBusy() - m0
			led.Close()
			b.StartTimer()
		}
		e.reportCPU(b, cpu)
	})
	for _, v := range []struct{ name, flag string }{{"openssh", ""}, {"openssh-fsync", "-f"}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(e.total)
			batch := fmt.Sprintf("put %s %s\n", filepath.Join(e.src, "*"), e.remote+"/")
			if v.flag != "" {
				batch = fmt.Sprintf("put -f %s %s\n", filepath.Join(e.src, "*"), e.remote+"/")
			}
			e.cpu = 0
			for b.Loop() {
				b.StopTimer()
				e.clearRemote(b)
				b.StartTimer()
				e.openssh(b, batch)
			}
			e.reportCPU(b, e.cpu)
		})
	}
}

func benchDownload(b *testing.B, n, size int) {
	e := newBenchEnv(b, n, size)
	b.Run("claimgate", func(b *testing.B) {
		b.SetBytes(e.total)
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			e.fillRemote(b)
			state := b.TempDir()
			led, err := ledger.OpenDir(filepath.Join(state, "ledger"))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			t0, m0 := selfCPU(), machineBusy()
			c, err := New(e.payer(e.remote), led, nil)
			if err != nil {
				b.Fatal(err)
			}
			c.Inbox = filepath.Join(state, "inbox")
			res, err := c.Fetch(context.Background(), func(context.Context, Delivery) error { return nil })
			if err != nil || res.HandedOn != n {
				b.Fatalf("%+v %v", res, err)
			}
			c.Close()
			b.StopTimer()
			cpu += selfCPU() - t0
			e.busy += machineBusy() - m0
			led.Close()
			b.StartTimer()
		}
		e.reportCPU(b, cpu)
	})
	b.Run("openssh", func(b *testing.B) {
		b.SetBytes(e.total)
		e.cpu = 0
		for b.Loop() {
			b.StopTimer()
			e.fillRemote(b)
			dst := b.TempDir()
			b.StartTimer()
			e.openssh(b, fmt.Sprintf("get %s %s\n", e.remote+"/*", dst+"/"))
		}
		e.reportCPU(b, e.cpu)
	})
}

func BenchmarkUpload100MB(b *testing.B)       { benchUpload(b, 1, 100<<20) }
func BenchmarkDownload100MB(b *testing.B)     { benchDownload(b, 1, 100<<20) }
func BenchmarkUpload1000x20KB(b *testing.B)   { benchUpload(b, 1000, 20<<10) }
func BenchmarkDownload1000x20KB(b *testing.B) { benchDownload(b, 1000, 20<<10) }

func benchInt(env string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(env), &n); err == nil {
		return n
	}
	return def
}
