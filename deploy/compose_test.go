package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/payersim"
)

// dockerCompose runs docker-compose on compose.yml with env added.
func dockerCompose(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose not installed (Debian package docker-compose; .ci/run installs it)")
	}
	cmd := exec.Command(bin, append([]string{"-f", "compose.yml"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The compose file is valid for docker-compose (no container engine is
// needed to check it), names the services of the stack, and refuses to
// start without API tokens.
func TestComposeConfig(t *testing.T) {
	tokens := "CLAIMGATE_API_TOKENS=test-token-not-secret"
	if out, err := dockerCompose(t, []string{tokens}, "config", "-q"); err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, out)
	}
	out, err := dockerCompose(t, []string{tokens}, "config", "--services")
	if err != nil {
		t.Fatalf("docker-compose config --services: %v\n%s", err, out)
	}
	services := strings.Fields(out)
	slices.Sort(services)
	want := []string{"claimgate-1", "claimgate-2", "grafana", "keygen", "nats-1", "nats-2", "nats-3", "payersim", "prometheus"}
	if !slices.Equal(services, want) {
		t.Errorf("services %v, want %v", services, want)
	}
	// Without tokens the API could not start on its non-loopback address:
	// compose says so up front.
	cmdEnv := []string{"CLAIMGATE_API_TOKENS="}
	if out, err := dockerCompose(t, cmdEnv, "config", "-q"); err == nil || !strings.Contains(out, "CLAIMGATE_API_TOKENS") {
		t.Errorf("docker-compose config without CLAIMGATE_API_TOKENS: err %v, output %q; want a refusal naming the variable", err, out)
	}
	full, err := dockerCompose(t, []string{tokens}, "config")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"claimgate-1", "claimgate-2"} {
		if !regexp.MustCompile(`--name\s*\n\s*- ` + s + `\n`).MatchString(full) {
			t.Errorf("%s: not started with --name %s (poll leases need distinct names)", s, s)
		}
	}
	// Prometheus scrapes each gateway on its ops listener.
	prom, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	targets := regexp.MustCompile(`job_name: claimgate\s+static_configs:\s+- targets: \[([^\]]*)\]`).FindSubmatch(prom)
	if targets == nil {
		t.Fatal("prometheus/prometheus.yml: no claimgate job with static targets")
	}
	var scraped []string
	for _, tg := range strings.Split(string(targets[1]), ",") {
		host, port, _ := strings.Cut(strings.Trim(strings.TrimSpace(tg), "'\""), ":")
		scraped = append(scraped, host)
		if !slices.Contains(services, host) || !regexp.MustCompile(`--ops-http\s*\n\s*- 0\.0\.0\.0:`+port+`\n`).MatchString(full) {
			t.Errorf("prometheus target %s: no compose service with --ops-http on port %s", tg, port)
		}
	}
	if !slices.Equal(scraped, []string{"claimgate-1", "claimgate-2"}) {
		t.Errorf("prometheus scrapes %v, want both gateways", scraped)
	}
	if n := len(regexp.MustCompile(`--replicas\s*\n\s*- '?"?3'?"?\n`).FindAllString(full, -1)); n != 2 {
		t.Errorf("the claimgate replicas do not run with --replicas 3:\n%s", full)
	}
}

// Every file the compose file mounts from the repository exists.
func TestComposeMountsExist(t *testing.T) {
	b, err := os.ReadFile("compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	mounts := regexp.MustCompile(`(?m)^\s*- (\./[^:\s]+):`).FindAllStringSubmatch(string(b), -1)
	if len(mounts) < 8 {
		t.Fatalf("only %d bind mounts found", len(mounts))
	}
	for _, m := range mounts {
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("compose.yml mounts %s: %v", m[1], err)
		}
	}
}

// The gateway configuration of the stack loads, and each payer's SFTP
// folders and receiver ids are those the payer simulator of the stack
// serves (deploy/payersim.example.json).
func TestComposeConfigMatchesPayerSim(t *testing.T) {
	cfg, err := config.Load("compose/claimgate.json")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := payersim.LoadConfig("payersim.example.json")
	if err != nil {
		t.Fatal(err)
	}
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	if len(cfg.Payers) != len(sim.Payers) {
		t.Errorf("%d gateway payers, %d simulated", len(cfg.Payers), len(sim.Payers))
	}
	for _, p := range cfg.Payers {
		i := slices.IndexFunc(sim.Payers, func(s payersim.PayerConfig) bool { return s.ID == p.ID })
		if i < 0 {
			t.Errorf("payer %s: not simulated", p.ID)
			continue
		}
		s := sim.Payers[i]
		folder := "/" + or(s.Folder, s.ID) + "/"
		if p.SFTP == nil || p.SFTP.Host != "payersim" || p.SFTP.Port != 2022 ||
			p.SFTP.OutboundDir != folder+or(s.Inbound, sim.Inbound) || p.SFTP.InboundDir != folder+or(s.Outbound, sim.Outbound) {
			t.Errorf("payer %s: sftp %+v does not reach the simulator's folders %s{%s,%s}", p.ID, p.SFTP, folder, or(s.Inbound, sim.Inbound), or(s.Outbound, sim.Outbound))
		}
		if p.Receiver.ISAID != s.ISAID || p.Receiver.GSID != s.GSID {
			t.Errorf("payer %s: receiver %s/%s, the simulator answers as %s/%s", p.ID, p.Receiver.ISAID, p.Receiver.GSID, s.ISAID, s.GSID)
		}
	}
}

// The NATS node configuration parses in the nats-server the tests use
// (make bin/nats-server; CLAIMGATE_NATS_SERVER), and routes to all three
// nodes of the compose file.
func TestComposeNATSConfig(t *testing.T) {
	b, err := os.ReadFile("compose/nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nats://nats-1:6222", "nats://nats-2:6222", "nats://nats-3:6222", "sync_interval: always"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("compose/nats.conf: no %s", want)
		}
	}
	bin := os.Getenv("CLAIMGATE_NATS_SERVER")
	if bin == "" {
		t.Skip("CLAIMGATE_NATS_SERVER not set (make unit sets it): the configuration is not parsed")
	}
	abs, err := filepath.Abs("compose/nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", abs, "-t")
	cmd.Env = append(os.Environ(), "NATS_SERVER_NAME=nats-1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nats-server -t: %v\n%s", err, out)
	}
	// The check must be able to fail.
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("jetstream { sync_interval: sometimes }\n"), 0o600)
	if exec.Command(bin, "-c", bad, "-t").Run() == nil {
		t.Error("nats-server -t accepted a bad configuration: the check proves nothing")
	}
}

// The configuration the Kubernetes manifests ship as a ConfigMap loads.
func TestK8sConfigLoads(t *testing.T) {
	cfg, err := config.Load("k8s/claimgate.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.Payers {
		if p.SFTP != nil && p.SFTP.PrivateKey != "" && !strings.HasPrefix(p.SFTP.PrivateKey, "file:/etc/claimgate/keys/") {
			t.Errorf("payer %s: private key %s is not in the mounted Secret /etc/claimgate/keys", p.ID, p.SFTP.PrivateKey)
		}
	}
}
