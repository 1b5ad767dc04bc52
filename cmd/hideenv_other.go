//go:build !linux

package cmd

// hideEnviron has nothing to do where other processes cannot read this one's environment
// through /proc.
func hideEnviron() error { return nil }
