package plugin_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/api"
)

func TestPolicyEventsLinkToTheirActivity(t *testing.T) {
	const (
		pod       = "woocommerce-6877958-x2b4q"
		container = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	)
	podScope := `namespace="shop" pod="` + pod + `"`
	containerScope := podScope + ` container_id="` + container + `"`
	type want struct {
		rule, priority, source, time string
		scope                        string // "" when the alert names no place
		k8sUser                      string
	}
	wants := []want{ // newest first
		{"testjson hello event", "Warning", "testjson", "", "", ""},
		{"testjson hello event", "Warning", "testjson", "", "", ""},
		{"Drop and execute new binary in container", "Critical", "syscall", "1795687547812345678", containerScope, ""},
		{"Terminal shell in container", "Notice", "syscall", "1795687512345678901", containerScope, ""},
		{"Attach/Exec Pod", "Notice", "k8s_audit", "1795687510120000000", podScope, "johndoe"},
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			base := datasetStore(t)
			pushSidekick(t, base, "loki-"+format+".json")
			rec := newRecorder(t, base, false)
			in := newInstance(t, rec.url, nil)
			var ans api.PolicyEventsAnswer
			body := in.get(t, q("/policy-events", "from", at1000, "to", at1600), &ans)
			golden(t, "policy-events-"+format, body)
			// The short container ids are looked up in the alerts'
			// namespaces only (every alert with one names its namespace).
			var lookups []string
			for _, r := range rec.reqs {
				if lq := r.URL.Query().Get("query"); strings.Contains(lq, "container_id=~") {
					lookups = append(lookups, lq)
				}
			}
			if len(lookups) != 1 || !strings.Contains(lookups[0], `namespace="shop"}`) {
				t.Errorf("container id lookups %q, want one within namespace shop", lookups)
			}
			if len(ans.Events) != len(wants) || ans.Next != "" {
				t.Fatalf("%d events (next %q), want %d", len(ans.Events), ans.Next, len(wants))
			}
			for i, w := range wants {
				ev := ans.Events[i]
				if ev.Format != format || ev.Rule != w.rule || ev.Priority != w.priority || ev.Source != w.source || ev.K8sUser != w.k8sUser ||
					(w.time != "" && ev.Time != w.time) {
					t.Errorf("event %d: %+v\nwant %+v", i, ev, w)
				}
				if w.scope == "" {
					if ev.Activity != nil {
						t.Errorf("event %d (%s): a link %+v for an alert that names no place", i, w.rule, ev.Activity)
					}
					continue
				}
				a := ev.Activity
				if a == nil || a.Filter != w.scope {
					t.Errorf("event %d (%s): activity %+v, want filter %s", i, w.rule, a, w.scope)
					continue
				}
				// ±5 minutes, in ms.
				ns, _ := strconv.ParseInt(ev.Time, 10, 64)
				if a.From != ns/1e6-300000 || a.To != ns/1e6+300000 {
					t.Errorf("event %d: range %d..%d around %s", i, a.From, a.To, ev.Time)
				}
				wantPath := "/a/activityaudit-app/audit?from=" + strconv.FormatInt(a.From, 10) + "&to=" + strconv.FormatInt(a.To, 10) +
					"&filter=" + strings.ReplaceAll(url.QueryEscape(w.scope), "+", "%20")
				if a.Path != wantPath || a.Link != grafanaURL+wantPath {
					t.Errorf("event %d: path %s\nlink %s\nwant %s", i, a.Path, a.Link, wantPath)
				}
				// The link opens the activity: the kube exec session's records.
				var events eventsAnswer
				in.get(t, q("/events", "from", strconv.FormatInt(a.From, 10), "to", strconv.FormatInt(a.To, 10), "filter", a.Filter, "limit", "1000"), &events)
				session := 0
				for _, r := range events.Records {
					if r["pod"] != pod {
						t.Errorf("event %d's link lists a record of pod %s", i, r["pod"])
					}
					if r["session"] == fixtureSession {
						session++
					}
				}
				if session != 5 {
					t.Errorf("event %d's link shows %d records of the session, want its 5", i, session)
				}
			}
			t.Run("pages", func(t *testing.T) {
				seen := map[string]bool{}
				cursor := ""
				for pages := 1; ; pages++ {
					var p api.PolicyEventsAnswer
					in.get(t, q("/policy-events", "from", at1000, "to", at1600, "limit", "2", "cursor", cursor), &p)
					for _, ev := range p.Events {
						if seen[ev.ID] {
							t.Fatalf("page %d repeats %s", pages, ev.ID)
						}
						seen[ev.ID] = true
					}
					if cursor = p.Next; cursor == "" {
						if pages != 3 {
							t.Errorf("%d pages, want 3", pages)
						}
						break
					}
				}
				if len(seen) != len(wants) {
					t.Errorf("%d events over the pages, want %d", len(seen), len(wants))
				}
			})
		})
	}
}
