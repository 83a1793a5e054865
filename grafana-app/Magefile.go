//go:build mage

// The Grafana app's backend build: run from grafana-app/,
// `go tool mage` builds gpx_activityaudit for every platform Grafana runs
// on into dist/ (gpx_activityaudit_linux_amd64, ..._darwin_arm64,
// ..._windows_amd64.exe, ...) with the SDK's build targets; `go tool mage -l`
// lists them (build:linux, build:backend, coverage, ...).
package main

import (
	// mage:import
	build "github.com/grafana/grafana-plugin-sdk-go/build"
)

// Default builds the backend for all platforms.
var Default = build.BuildAll
