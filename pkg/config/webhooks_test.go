package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWebhookExample(t *testing.T) {
	c, err := Load("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Webhooks) != 1 {
		t.Fatalf("%d webhooks in the example", len(c.Webhooks))
	}
	w := c.Webhooks[0]
	tm, err := w.Times()
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "pm" || w.Secret != "env:PM_HOOK_SECRET" || len(w.States) != 6 || tm.Timeout != 10*time.Second || tm.MaxAge != 24*time.Hour || tm.RetryMax != 5*time.Minute {
		t.Fatalf("example webhook %+v %+v", w, tm)
	}
	// Defaults.
	tm, err = (&Webhook{}).Times()
	if err != nil || tm.Timeout != 10*time.Second || tm.MaxAge != 24*time.Hour || tm.RetryMin != time.Second || tm.RetryMax != 5*time.Minute {
		t.Fatalf("defaults %+v %v", tm, err)
	}
}

func TestWebhookRejects(t *testing.T) {
	dir := t.TempDir()
	const head = `{"submitter":{"name":"A","id":"B","contact_name":"C","phone":"1"},"usage":"T","payers":[],"webhooks":[`
	const url = `"url":"https://pm.example/hook?token=TOPSECRET"`
	for name, c := range map[string]struct{ hooks, want string }{
		"literal secret":  {`{"name":"pm",` + url + `,"secret":"hunter2"}`, "never the secret itself"},
		"no secret":       {`{"name":"pm",` + url + `}`, "secret is required"},
		"relative url":    {`{"name":"pm","url":"/hook","secret":"env:X"}`, "absolute http"},
		"ftp url":         {`{"name":"pm","url":"ftp://pm.example/x","secret":"env:X"}`, "absolute http"},
		"user in url":     {`{"name":"pm","url":"https://u:p@pm.example/x","secret":"env:X"}`, "user or password"},
		"bad name":        {`{"name":"p.m",` + url + `,"secret":"env:X"}`, "letters, digits"},
		"unknown state":   {`{"name":"pm",` + url + `,"secret":"env:X","states":["payed"]}`, `unknown claim state "payed"`},
		"state twice":     {`{"name":"pm",` + url + `,"secret":"env:X","states":["paid","paid"]}`, "appears twice"},
		"bad timeout":     {`{"name":"pm",` + url + `,"secret":"env:X","timeout":"10"}`, "timeout"},
		"zero max age":    {`{"name":"pm",` + url + `,"secret":"env:X","max_age":"0s"}`, "max_age"},
		"retry min > max": {`{"name":"pm",` + url + `,"secret":"env:X","retry_min":"1m","retry_max":"1s"}`, "above retry_max"},
		"bad deliver":     {`{"name":"pm",` + url + `,"secret":"env:X","deliver":"old"}`, "deliver"},
		"negative":        {`{"name":"pm",` + url + `,"secret":"env:X","max_attempts":-1}`, "negative"},
		"name twice":      {`{"name":"pm",` + url + `,"secret":"env:X"},{"name":"pm",` + url + `,"secret":"env:Y"}`, `"pm" appears twice`},
		"unknown key":     {`{"name":"pm",` + url + `,"secret":"env:X","retries":3}`, "unknown field"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(head+c.hooks+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the URL's token or the secret: %v", name, err)
		}
	}
}
