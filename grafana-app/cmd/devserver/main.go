// Command devserver serves the Activity Audit app's backend API where no
// Grafana runs, through the real app instance's CallResource:
//
//	go run ./grafana-app/cmd/devserver --loki-url http://127.0.0.1:3100 --listen 127.0.0.1:3300
//	curl 'http://127.0.0.1:3300/api/plugins/activityaudit-app/resources/events?from=now-1h&filter=comm%3D%22bash%22'
//
// It listens on loopback unless told otherwise: it answers every request as
// the --role user, without authentication.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/devserver"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/settings"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("devserver", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:3300", "address to serve on (keep it on loopback: requests are not authenticated)")
	var d settings.JSONData
	fs.StringVar(&d.LokiURL, "loki-url", "http://127.0.0.1:3100", "Loki (or embedded store) base URL")
	fs.StringVar(&d.LokiTenant, "loki-tenant", "", "tenant sent as X-Scope-OrgID")
	fs.StringVar(&d.LokiUser, "loki-username", "", "basic auth user (password from env LOKI_PASSWORD or --loki-password-file)")
	passwordFile := fs.String("loki-password-file", "", "file holding the basic auth password")
	tokenFile := fs.String("loki-bearer-token-file", "", "file holding a bearer token (env LOKI_BEARER_TOKEN also works)")
	fs.StringVar(&d.GrafanaURL, "grafana-url", "", "base URL of the links the API writes (default: relative links)")
	fs.StringVar(&d.PolicySelector, "policy-selector", settings.DefaultPolicySelector, "LogQL stream selector of Falcosidekick's alerts")
	fs.StringVar(&d.MinRole, "min-role", settings.DefaultMinRole.String(), "lowest Grafana role allowed to read: Viewer, Editor or Admin")
	fs.StringVar(&d.QueryTimeout, "query-timeout", settings.DefaultQueryTimeout.String(), "longest one request may take")
	appDir := fs.String("app-dir", "grafana-app", "the grafana-app directory whose built frontend (dist/, harness/build/: npm run build) is served; empty: the API only")
	role := fs.String("role", "Admin", "Grafana role of the user every request comes from (try Viewer to see a refusal)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	secrets := map[string]string{}
	password, err := secret(*passwordFile, "LOKI_PASSWORD")
	if err != nil {
		return err
	}
	token, err := secret(*tokenFile, "LOKI_BEARER_TOKEN")
	if err != nil {
		return err
	}
	switch {
	case d.LokiUser != "":
		d.LokiAuth, secrets[settings.SecretPassword] = settings.AuthBasic, password
	case token != "":
		d.LokiAuth, secrets[settings.SecretBearerToken] = settings.AuthBearer, token
	}
	jsonData, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if _, err := settings.Load(jsonData, secrets, ""); err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(*listen); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			slog.Warn("devserver listens beyond loopback: anyone who reaches it reads the audit trail as " + *role)
		}
	}

	// The SDK logs every instance lookup at debug level.
	log.DefaultLogger = log.NewWithLevel(log.Info)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := devserver.New(devserver.Config{
		Listen:   *listen,
		Settings: backend.AppInstanceSettings{JSONData: jsonData, DecryptedSecureJSONData: secrets},
		User:     &backend.User{Login: "dev", Name: "Developer", Role: *role},
		AppDir:   *appDir,
	})
	if *appDir != "" {
		fmt.Fprintf(os.Stderr, "open http://%s/a/activityaudit-app/audit\n", *listen)
	}
	if err := srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// secret reads a secret from a file, else from an environment variable.
func secret(file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
