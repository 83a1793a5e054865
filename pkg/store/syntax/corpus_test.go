package syntax

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	goldenDir = "../../logql/testdata/golden"
	casesFile = "../../../testdata/loki/cases.json"
)

// goldenQuery is one query of our LogQL compiler's golden files.
type goldenQuery struct {
	name, query string
}

// goldenQueries reads every *.logql file; one trailing newline is not part
// of the query.
func goldenQueries(tb testing.TB) []goldenQuery {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.logql"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatalf("no golden queries in %s", goldenDir)
	}
	sort.Strings(paths)
	var qs []goldenQuery
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		q := string(data)
		if s, ok := strings.CutSuffix(q, "\r\n"); ok {
			q = s
		} else {
			q = strings.TrimSuffix(q, "\n")
		}
		qs = append(qs, goldenQuery{strings.TrimSuffix(filepath.Base(p), ".logql"), q})
	}
	return qs
}

// lokiCase is one query sent to the recorded Loki with its answer.
type lokiCase struct {
	name   string
	query  string
	status int
	body   string // the error message when the body is a string
}

// lokiCases returns every request.params.query and match[] of cases.json.
func lokiCases(tb testing.TB) []lokiCase {
	tb.Helper()
	data, err := os.ReadFile(casesFile)
	if err != nil {
		tb.Fatal(err)
	}
	var raw []struct {
		Name    string `json:"name"`
		Request struct {
			Params map[string]json.RawMessage `json:"params"`
		} `json:"request"`
		Response struct {
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		tb.Fatal(err)
	}
	var cs []lokiCase
	for _, r := range raw {
		var body string
		_ = json.Unmarshal(r.Response.Body, &body) // objects stay ""
		for _, key := range []string{"query", "match[]"} {
			v, ok := r.Request.Params[key]
			if !ok {
				continue
			}
			var one string
			var many []string
			if json.Unmarshal(v, &one) == nil {
				many = []string{one}
			} else if err := json.Unmarshal(v, &many); err != nil {
				tb.Fatalf("%s: %s: %v", r.Name, key, err)
			}
			for _, q := range many {
				cs = append(cs, lokiCase{r.Name, q, r.Response.Status, body})
			}
		}
	}
	if len(cs) == 0 {
		tb.Fatal("no queries in " + casesFile)
	}
	return cs
}
