//go:build race

package agent_test

// raceEnabled: the race detector slows the collector and the store (both
// run from this test binary) several times over.
const raceEnabled = true
