//go:build race

package config

// raceEnabled: the race detector maps its shadow memory as it goes, so an address-space
// limit would crash a race-enabled evaluator; tests under -race rely on the watchdog.
const raceEnabled = true
