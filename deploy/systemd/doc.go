// Package systemd holds no code: this folder is kazzle.service, the sysusers.d entry of
// its kazzle user (kazzle.conf) and the kazzle-server.hcl installed with them, as
// docs/server.md ("Run it under systemd") describes. Its tests check the three with
// systemd's own tools and with a built kazzle.
package systemd
