//go:build !linux

package config

import "runtime/debug"

// limitAddressSpace can only tell the garbage collector the limit here; the watchdog in
// runScript stops a config that keeps growing.
func limitAddressSpace(limit int64) error {
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return nil
}
