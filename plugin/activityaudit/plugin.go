// Package activityaudit is the Falco plugin of Activity Audit: the event
// source "activityaudit", which follows activity records from Loki (or the
// embedded store) as Falco events, and a field extractor that reads every
// record field as activity.<field>, plus activity.link and
// activity.trace_link into the Grafana app — on our events and on the
// k8s_audit plugin's exec and attach requests.
//
// The field table derives from the registry (pkg/field); fields_gen.go is
// generated from it (go generate).
package activityaudit

import (
	"fmt"
	"log"
	"os"

	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins"
)

// Plugin identity.
const (
	ID          = 999 // Falco's id for plugins in development, until one is registered
	Name        = "activityaudit"
	EventSource = "activityaudit"
	Version     = "0.1.0"
	// K8sAuditSource is the k8s_audit plugin's event source, whose exec and
	// attach requests get links too.
	K8sAuditSource = "k8s_audit"
)

// Plugin is the plugin state: one per plugin_init.
type Plugin struct {
	plugins.BasePlugin
	cfg   Config
	set   settings
	ready bool
	log   *log.Logger
	// ev is the event being extracted.
	ev event
}

var (
	_ sdk.InitSchema = (*Plugin)(nil)
	_ sdk.Extractor  = (*Plugin)(nil)
	_ sdk.Stringer   = (*Plugin)(nil)
	_ sdk.OpenParams = (*Plugin)(nil)
)

// New returns an uninitialized plugin.
func New() *Plugin {
	return &Plugin{log: log.New(os.Stderr, "[activityaudit] ", log.LstdFlags)}
}

// Info describes the plugin.
func (p *Plugin) Info() *plugins.Info {
	return &plugins.Info{
		ID:                  ID,
		Name:                Name,
		Description:         "Activity Audit: commands, connections and kube exec sessions of Kubernetes nodes, from Loki, with links into Grafana",
		Contact:             "github.com/activityaudit/activityaudit",
		Version:             Version,
		EventSource:         EventSource,
		ExtractEventSources: []string{EventSource, K8sAuditSource},
	}
}

// InitSchema is the JSON schema of the init configuration.
func (p *Plugin) InitSchema() *sdk.SchemaInfo {
	return &sdk.SchemaInfo{Schema: ConfigSchema()}
}

// Init reads and checks the configuration; a bad one is an error that names
// the setting.
func (p *Plugin) Init(config string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return fmt.Errorf("init activityaudit: %w", err)
	}
	set, err := cfg.validate()
	if err != nil {
		return fmt.Errorf("init activityaudit: config: %w", err)
	}
	p.cfg, p.set, p.ready = cfg, set, true
	return nil
}

// Fields is the field table.
func (p *Plugin) Fields() []sdk.FieldEntry { return Fields() }

// Extract fills one field of an event. A field's id is its place in the
// table, so no field is looked up by name on this path.
func (p *Plugin) Extract(req sdk.ExtractRequest, evt sdk.EventReader) error {
	id := req.FieldID()
	if id >= uint64(len(fieldTable)) {
		return fmt.Errorf("extract field: id %d is not in the table (%d fields)", id, len(fieldTable))
	}
	ev, err := p.ev.load(evt)
	if err != nil {
		return fmt.Errorf("extract %s: %w", fieldTable[id].entry.Name, err)
	}
	return fieldTable[id].extract(p, ev, req)
}

// String renders an event for evt.plugininfo: its payload, which is JSON.
func (p *Plugin) String(evt sdk.EventReader) (string, error) {
	ev, err := p.ev.load(evt)
	if err != nil {
		return "", fmt.Errorf("render event: %w", err)
	}
	return ev.payload, nil
}
