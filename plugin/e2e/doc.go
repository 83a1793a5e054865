// Package e2e tests the built Falco plugin as Falco uses it: it builds
// libactivityaudit.so, loads and validates it with the SDK's loader (Falco's
// own C loader), and drives it through the plugin API (plugin_open,
// plugin_next_batch, plugin_extract_fields) against the embedded store.
package e2e
