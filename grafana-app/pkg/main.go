// Command gpx_activityaudit is the Activity Audit Grafana app's backend:
// Grafana starts it and talks to it over gRPC (hashicorp/go-plugin).
package main

import (
	"os"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/access"
	"github.com/activityaudit/activityaudit/grafana-app/pkg/plugin"
	"github.com/grafana/grafana-plugin-sdk-go/backend/app"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/prometheus/client_golang/prometheus"
)

func main() {
	metrics := access.NewMetrics(prometheus.DefaultRegisterer)
	if err := app.Manage(plugin.ID, plugin.NewFactory(metrics), app.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("Activity Audit backend stopped", "error", err.Error())
		os.Exit(1)
	}
}
