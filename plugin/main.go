// Command activityaudit is the Falco plugin of Activity Audit, built as a
// shared library:
//
//	go build -buildmode=c-shared -o libactivityaudit.so ./plugin
//
// It only registers the plugin; the plugin is package activityaudit.
package main

import (
	"github.com/activityaudit/activityaudit/plugin/activityaudit"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins/extractor"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins/source"
)

func init() {
	plugins.SetFactory(func() plugins.Plugin {
		p := activityaudit.New()
		source.Register(p)
		extractor.Register(p)
		return p
	})
}

func main() {}
