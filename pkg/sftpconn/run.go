package sftpconn

import (
	"context"
	"sync"
	"time"
)

// Poll runs Fetch every PollInterval until ctx ends or a permanent error
// (a refused host key or login) stops this payer; that error is logged
// once and returned. Transient failures are logged and retried with
// backoff. Each payer polls in its own goroutine with its own connection
// (see Run), so one broken payer never delays another.
func (c *Client) Poll(ctx context.Context, h Handler) error {
	fails := 0
	for {
		res, err := c.Fetch(ctx, h)
		wait := c.p.PollInterval
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && Refused(err):
			c.log.Error("sftp payer stopped: this cannot succeed without a configuration change", "err", err)
			return err
		case err != nil:
			fails++
			wait = min(wait, c.backoff(fails))
			c.log.Warn("sftp poll failed", "err", err, "retry_in", wait.Round(time.Millisecond))
		default:
			fails = 0
			if res.HandedOn+res.Duplicates+res.BadNames > 0 {
				c.log.Info("sftp poll", "handed_on", res.HandedOn, "duplicates", res.Duplicates, "bad_names", res.BadNames, "unsettled", res.Unsettled)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Run polls every client in its own goroutine until ctx ends, handing
// each delivery to h, and returns the error each payer stopped with (by
// payer id; context errors are left out).
func Run(ctx context.Context, clients []*Client, h Handler) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Poll(ctx, h); err != nil && ctx.Err() == nil {
				mu.Lock()
				errs[c.p.ID] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}
