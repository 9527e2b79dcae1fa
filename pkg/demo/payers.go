package demo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/payersim"
)

// payersimJSON is the simulated payers' configuration: three payers (a
// Medicare contractor, two commercial plans) with the batch's payer ids,
// answering in seconds rather than days.
//
//go:embed payersim.json
var payersimJSON []byte

// SimConfig returns the demo's payer simulator configuration.
func SimConfig() (*payersim.Config, error) {
	return payersim.ReadConfig(bytes.NewReader(payersimJSON))
}

// maxClaimsPerSet keeps 837P transaction sets small: a 999 rejects a whole
// set, so one bad claim takes at most this many others with it.
const maxClaimsPerSet = 5

// gatewayConfig is the gateway's configuration for the simulated payers:
// the submitter, each payer's receiver ids (the simulator's ISA ids, so
// responses match) and its SFTP block, pinned to the simulator's host key
// (known_hosts line) and logging in with the key in keyFile.
func gatewayConfig(sim *payersim.Config, addr, knownLine, keyFile string) (*config.Config, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, err
	}
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "RIVERBEND BILLING SERVICES", ID: "RBBS001", ContactName: "EDI DESK",
			Phone: "5035550142", ISAQualifier: "ZZ", ISAID: "RBBS001"},
		Usage:           "T",
		MaxClaimsPerSet: maxClaimsPerSet,
	}
	for _, sp := range sim.Payers {
		cp := config.Payer{ID: sp.ID, Name: sp.Name, FilingCode: sp.FilingCode}
		if sp.FilingCode == "MB" {
			cp.Preset = "medicare"
		}
		cp.Receiver.ISAQualifier = "ZZ"
		cp.Receiver.ISAID = sp.ISAID
		cp.Receiver.GSID = sp.GSID
		cp.SFTP = &config.SFTP{
			Host: host, Port: p, User: simUser,
			PrivateKey: "file:" + keyFile,
			HostKey:    knownLine,
			// The simulator's folders for this payer.
			OutboundDir: "/" + sp.Folder + "/" + sp.Inbound,
			InboundDir:  "/" + sp.Folder + "/" + sp.Outbound,
			// Seconds, not the minutes a real payer warrants.
			PollInterval: "250ms", SettleTime: "100ms", RetryMax: "1s",
			ConnectTimeout: "10s",
		}
		cfg.Payers = append(cfg.Payers, cp)
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// writeJSON writes v as indented JSON to a new file (never replacing
// one), so the user can read the demo's configuration.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}
