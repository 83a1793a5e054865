package devserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/store/storetest"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// serve runs a devserver over a store seeded with dataset.json and
// returns its base URL.
func serve(t *testing.T, role string, jsonData map[string]any, secrets map[string]string) string {
	t.Helper()
	store := storetest.Start(t, nil)
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "loki", "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(store+"/loki/api/v1/push", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if jsonData == nil {
		jsonData = map[string]any{}
	}
	jsonData["lokiUrl"] = store
	raw, _ := json.Marshal(jsonData)
	srv := New(Config{
		Settings: backend.AppInstanceSettings{JSONData: raw, DecryptedSecureJSONData: secrets},
		User:     &backend.User{Login: "t", Role: role},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDevserverPassesResourcesToTheInstance(t *testing.T) {
	base := serve(t, "Editor", map[string]any{"lokiAuth": "bearer"}, map[string]string{"lokiBearerToken": "s3cret-token"})
	const window = "from=1795687200000&to=1795688400000"
	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"fields", ResourcePrefix + "fields", 200, `"name":"comm"`},
		{"groups", ResourcePrefix + "groups?" + window, 200, `"total":95`},
		{"trace, colons as they are", ResourcePrefix + "trace/node-a:1795687500000000000:9001?" + window, 200, `"user":"johndoe"`},
		{"trace, colons escaped", ResourcePrefix + "trace/node-a%3A1795687500000000000%3A9001?" + window, 200, `"user":"johndoe"`},
		{"events, filter escaped", ResourcePrefix + "events?" + window + "&limit=2&filter=comm%3D%22ab%22", 200, `"cmdline":"ab -n 10000 -c 50 http://10.0.1.5/"`},
		{"bad filter", ResourcePrefix + "events?filter=comm%3D", 400, `"column":6`},
		{"unknown resource", ResourcePrefix + "nothing", 404, `"kind":"not_found"`},
		{"health", HealthPath, 200, `"status":"OK"`},
		{"settings show which secrets are set, not their values", SettingsPath, 200, `"secureJsonFields":{"lokiBearerToken":true}`},
		{"nothing else", "/", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, base+tt.path)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("%d %s", status, body)
			}
			if strings.Contains(body, "s3cret-token") {
				t.Errorf("the answer shows the secret: %s", body)
			}
		})
	}
}

func TestDevserverAsViewer(t *testing.T) {
	base := serve(t, "Viewer", nil, nil)
	if status, body := get(t, base+ResourcePrefix+"events"); status != http.StatusForbidden || !strings.Contains(body, "Editor role") {
		t.Errorf("%d %s", status, body)
	}
}
