package activityaudit

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseConfig: any init_config either fails with an error or yields a
// configuration that reads back the same when written out again.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"", "{}", "null", `{"lokiURL":"http://127.0.0.1:3100","sources":["cmd"]}`,
		`{"filter":"comm=\"bash\" cmdline=~\"curl .*\"","pageSize":10,"delay":"1m"}`,
		`{"lokiUrl":1}`, `[`, `{"start":"now-1h","linkBefore":"2d"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := ParseConfig(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse config: ") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		again, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg2, err := ParseConfig(string(again))
		if err != nil {
			t.Fatalf("a parsed config does not parse again: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(cfg2, cfg) && !(len(cfg.Sources) == 0 && len(cfg2.Sources) == 0) {
			t.Fatalf("config changed on a round trip:\n%+v\n%+v", cfg, cfg2)
		}
		s, err := cfg.validate()
		if err == nil && !strings.HasPrefix(s.query, `{job="activity-audit"`) {
			t.Fatalf("valid config compiled to query %q", s.query)
		}
	})
}

// FuzzParseCursor: a cursor file either fails to parse or writes back to a
// file that reads as the same cursor.
func FuzzParseCursor(f *testing.F) {
	f.Add([]byte(`{"version":1,"time":"1795687512345678901","seen":["0000000000000001"]}`))
	f.Add([]byte(`{"version":1,"time":"0","seen":[]}`))
	f.Add([]byte(`{"version":1,"time":"1","seen":["ffffffffffffffff","ffffffffffffffff"]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCursor(data)
		if err != nil {
			return
		}
		if c.Time < 0 {
			t.Fatalf("negative time %d", c.Time)
		}
		c2, err := ParseCursor(MarshalCursor(c))
		if err != nil {
			t.Fatalf("a written cursor does not parse: %v", err)
		}
		if c2.Time != c.Time || !reflect.DeepEqual(c2.Seen, c.Seen) {
			t.Fatalf("cursor changed on a round trip: %+v, %+v", c, c2)
		}
	})
}

// FuzzPayload: any event payload, ours or another plugin's, decodes without
// panicking; a record that decodes encodes back to a payload that decodes to
// the same record.
func FuzzPayload(f *testing.F) {
	f.Add(`{"time":1795687512345678901,"source":"cmd","cmdline":"id","pid":5,"session_entry":true}`)
	f.Add(`{"time":1,"pid":"x"}`)
	f.Add(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","objectRef":{"resource":"pods","subresource":"exec"}}`)
	f.Add(`{"time":`)
	f.Fuzz(func(t *testing.T, payload string) {
		var ev event
		ev.reset(1, 1, payload)
		_, _ = parseKubeExec(payload)
		r := ev.rec()
		if r == nil || r.Time < 0 {
			return
		}
		again := appendPayload(nil, r)
		var ev2 event
		ev2.reset(2, 2, string(again))
		if ev2.rec() == nil {
			t.Fatalf("re-encoded payload does not decode: %s", again)
		}
		if !reflect.DeepEqual(*ev2.rec(), *r) {
			t.Fatalf("record changed on a round trip:\n%+v\n%+v", *r, *ev2.rec())
		}
	})
}
