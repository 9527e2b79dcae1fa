package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// InboxReport is written beside a batch moved out of DATA/inbox
// (NAME.report.json in done/ or failed/).
type InboxReport struct {
	Batch     string    `json:"batch,omitempty"` // the batch id (SHA-256) on the batch stream
	Duplicate bool      `json:"duplicate,omitempty"`
	Error     string    `json:"error,omitempty"`
	Time      time.Time `json:"time"`
}

type look struct {
	size int64
	mod  time.Time
}

// watchInbox submits files dropped into DATA/inbox. A file is taken once
// complete: its name does not start with '.', and its size and
// modification time held across two looks. It is then moved to done/ (or
// failed/) with a report beside it; a crash before the move submits it
// again, which the batch stream's de-duplication turns into nothing.
func (in *ingester) watchInbox(ctx context.Context) error {
	g := in.g
	last := map[string]look{}
	for {
		ents, err := os.ReadDir(g.inbox)
		if err != nil {
			g.log.Warn("inbox", "err", err)
		}
		now := map[string]look{}
		for _, e := range ents {
			name := e.Name()
			if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
				continue
			}
			st, err := e.Info()
			if err != nil {
				continue
			}
			l := look{st.Size(), st.ModTime()}
			now[name] = l
			if prev, ok := last[name]; ok && prev == l {
				in.takeInbox(ctx, name)
				delete(now, name)
			}
		}
		last = now
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(g.cfg.InboxInterval):
		}
	}
}

func (in *ingester) takeInbox(ctx context.Context, name string) {
	g := in.g
	path := filepath.Join(g.inbox, name)
	rep := InboxReport{Time: time.Now().UTC()}
	f, err := os.Open(path)
	if err == nil {
		rep.Batch, rep.Duplicate, err = submitFile(ctx, g.b.JS, f, name)
		f.Close()
	}
	dest := "done"
	if err != nil {
		if ctx.Err() != nil {
			return // taken again at the next start
		}
		rep.Error = err.Error()
		dest = "failed"
		g.log.Error("inbox batch not submitted", "err", noPath(err))
	} else {
		g.log.Info("inbox batch submitted", "batch", short(rep.Batch), "duplicate", rep.Duplicate)
		if rep.Duplicate {
			g.cfg.Metrics.BatchDone("duplicate")
		}
	}
	target, err := moveNoReplace(path, filepath.Join(g.inbox, dest), name)
	if err != nil {
		g.log.Error("inbox: moving a batch", "err", noPath(err))
		return
	}
	data, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(target+".report.json", append(data, '\n'), 0o600); err != nil {
		g.log.Warn("inbox report", "err", err)
	}
}

// moveNoReplace moves path into dir under name, or name.1, name.2... when
// taken (link, then unlink: never replaces), and returns the new path.
func moveNoReplace(path, dir, name string) (string, error) {
	for i := 0; i < 1000; i++ {
		target := filepath.Join(dir, name)
		if i > 0 {
			target = filepath.Join(dir, fmt.Sprintf("%s.%d", name, i))
		}
		err := os.Link(path, target)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return target, os.Remove(path)
	}
	return "", errors.New("no free name")
}

// noPath drops the file name from an error (a batch's name may hold
// patient data): the operation and the cause stay.
func noPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
