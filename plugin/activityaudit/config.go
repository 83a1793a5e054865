package activityaudit

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/timerange"
)

// Config is the plugin's init configuration (Falco's init_config), as
// JSON. Keys are camelCase, as in Falco's own plugins. Every key is
// optional: the zero Config means the defaults.
type Config struct {
	// LokiURL is Loki's base URL, or the embedded store's.
	LokiURL string `json:"lokiURL"`
	// Tenant is sent as X-Scope-OrgID.
	Tenant string `json:"tenant"`
	// Username and Password are basic auth; BearerToken excludes them.
	Username    string `json:"username"`
	Password    string `json:"password"`
	BearerToken string `json:"bearerToken"`
	// GrafanaURL is the Grafana base URL that links start with.
	GrafanaURL string `json:"grafanaURL"`
	// Filter selects the records to follow, in Activity Audit's filter
	// language (comm="bash" namespace!="kube-system").
	Filter string `json:"filter"`
	// Sources to follow: cmd, net, kube_exec; none means all.
	Sources []string `json:"sources"`
	// Start is where to start when there is no saved cursor: now, a time
	// relative to now (now-1h), RFC 3339 or Unix milliseconds.
	Start string `json:"start"`
	// CursorFile keeps the position across restarts: a restarted Falco goes
	// on where it stopped, with no gap and no repeat.
	CursorFile string `json:"cursorFile"`
	// PollInterval is how often Loki is asked for new records.
	PollInterval string `json:"pollInterval"`
	// Delay is how far behind now the plugin reads, so that records pushed a
	// little late are still read in order.
	Delay string `json:"delay"`
	// PageSize is the most records one query returns.
	PageSize int `json:"pageSize"`
	// Timeout bounds one query.
	Timeout string `json:"timeout"`
	// LinkBefore and LinkAfter are how far the links' time range reaches
	// before and after the event.
	LinkBefore string `json:"linkBefore"`
	LinkAfter  string `json:"linkAfter"`
}

// Defaults.
const (
	DefaultLokiURL      = "http://127.0.0.1:3100"
	DefaultGrafanaURL   = "http://localhost:3000"
	DefaultStart        = "now"
	DefaultPollInterval = "1s"
	DefaultDelay        = "5s"
	DefaultPageSize     = 1000
	DefaultTimeout      = "30s"
	DefaultLinkBefore   = "1h"
	DefaultLinkAfter    = "15m"
	// MaxPageSize is Loki's default max_entries_limit_per_query.
	MaxPageSize = 5000
)

// DefaultConfig is the configuration an empty init_config means.
func DefaultConfig() Config {
	return Config{
		LokiURL:      DefaultLokiURL,
		GrafanaURL:   DefaultGrafanaURL,
		Start:        DefaultStart,
		PollInterval: DefaultPollInterval,
		Delay:        DefaultDelay,
		PageSize:     DefaultPageSize,
		Timeout:      DefaultTimeout,
		LinkBefore:   DefaultLinkBefore,
		LinkAfter:    DefaultLinkAfter,
	}
}

//go:embed config.schema.json
var configSchema string

// ConfigSchema is the JSON schema of Config (plugin_get_init_schema).
func ConfigSchema() string { return configSchema }

// settings is a validated configuration.
type settings struct {
	loki       loki.Config
	grafanaURL string
	scope      logql.Scope
	query      string
	start      string
	cursorFile string
	poll       time.Duration
	delay      time.Duration
	pageSize   int
	window     link.Window
}

// ParseConfig reads an init configuration: a JSON object with the keys of
// Config (unknown keys are an error), or nothing for the defaults. Missing
// keys take their defaults.
func ParseConfig(text string) (Config, error) {
	cfg := DefaultConfig()
	if strings.TrimSpace(text) == "" {
		return cfg, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	var keys map[string]json.RawMessage
	if err := dec.Decode(&keys); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", jsonError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("parse config: text after the JSON object")
	}
	// encoding/json matches keys regardless of case: check them first.
	for key := range keys {
		if err := checkKey(key); err != nil {
			return Config{}, fmt.Errorf("parse config: %w", err)
		}
	}
	if err := json.Unmarshal([]byte(text), &cfg); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", jsonError(err))
	}
	// Empty strings mean the default, as a missing key does.
	def := DefaultConfig()
	for _, kv := range []struct{ v, d *string }{
		{&cfg.LokiURL, &def.LokiURL}, {&cfg.GrafanaURL, &def.GrafanaURL}, {&cfg.Start, &def.Start},
		{&cfg.PollInterval, &def.PollInterval}, {&cfg.Delay, &def.Delay}, {&cfg.Timeout, &def.Timeout},
		{&cfg.LinkBefore, &def.LinkBefore}, {&cfg.LinkAfter, &def.LinkAfter},
	} {
		if strings.TrimSpace(*kv.v) == "" {
			*kv.v = *kv.d
		}
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = def.PageSize
	}
	return cfg, nil
}

// configKeys are the keys of Config.
var configKeys = func() []string {
	t := reflect.TypeFor[Config]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("json")
	}
	return keys
}()

// checkKey refuses a key that is not one of Config's, naming the one meant
// when only its case differs.
func checkKey(key string) error {
	if slices.Contains(configKeys, key) {
		return nil
	}
	for _, k := range configKeys {
		if strings.EqualFold(k, key) {
			return fmt.Errorf("unknown key %q (did you mean %q?)", key, k)
		}
	}
	return fmt.Errorf("unknown key %q (known: %s)", key, strings.Join(configKeys, ", "))
}

// jsonError names the key of a type mismatch: `pageSize: want a number`.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: want %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "int":
		return "a number"
	}
	return k
}

// validate checks every value and resolves it; errors name the key.
func (c Config) validate() (settings, error) {
	s := settings{start: c.Start, cursorFile: c.CursorFile, pageSize: c.PageSize}
	s.loki = loki.Config{URL: c.LokiURL, Tenant: c.Tenant, Username: c.Username, Password: c.Password, BearerToken: c.BearerToken}
	var err error
	if s.loki.Timeout, err = positive("timeout", c.Timeout); err != nil {
		return s, err
	}
	if _, err := loki.New(s.loki); err != nil {
		return s, fmt.Errorf("lokiURL: %w", err)
	}
	if s.grafanaURL, err = grafanaURL(c.GrafanaURL); err != nil {
		return s, fmt.Errorf("grafanaURL: %w", err)
	}
	flt, err := filter.Parse(c.Filter)
	if err != nil {
		return s, fmt.Errorf("filter: %w", err)
	}
	s.scope.Filter = flt
	for _, name := range c.Sources {
		src, ok := field.ParseSource(name)
		if !ok {
			return s, fmt.Errorf("sources: unknown source %q (want %s)", name, sourceNames())
		}
		if !slices.Contains(s.scope.Sources, src) {
			s.scope.Sources = append(s.scope.Sources, src)
		}
	}
	s.query = logql.Stream(s.scope)
	if _, err := timerange.Parse(c.Start, time.Now()); err != nil {
		return s, fmt.Errorf("start: %w", err)
	}
	if s.poll, err = positive("pollInterval", c.PollInterval); err != nil {
		return s, err
	}
	if s.delay, err = duration("delay", c.Delay); err != nil {
		return s, err
	}
	if s.window.Before, err = duration("linkBefore", c.LinkBefore); err != nil {
		return s, err
	}
	if s.window.After, err = duration("linkAfter", c.LinkAfter); err != nil {
		return s, err
	}
	if c.PageSize < 1 || c.PageSize > MaxPageSize {
		return s, fmt.Errorf("pageSize: %d is not between 1 and %d", c.PageSize, MaxPageSize)
	}
	return s, nil
}

func sourceNames() string {
	names := make([]string, len(field.Sources))
	for i, s := range field.Sources {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func duration(key, text string) (time.Duration, error) {
	d, err := timerange.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return 0, fmt.Errorf("%s: %w (want e.g. 500ms, 5s, 1m, 1h)", key, err)
	}
	return d, nil
}

func positive(key, text string) (time.Duration, error) {
	d, err := duration(key, text)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%s: must be more than 0", key)
	}
	return d, err
}

// grafanaURL checks a Grafana base URL: http(s), a host, no query.
func grafanaURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return "", err
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return "", errors.New("url has no host")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("url must not have a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}
