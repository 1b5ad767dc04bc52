// Package config reads a project's configuration: kazzle.config.ts (bundled by esbuild,
// evaluated in goja) or kazzle.hcl, into a Project of components, their secrets and
// their targets. The server's own kazzle-server.hcl is package serverconfig's.
//
// [Load] finds and evaluates the config of a folder into a [Project]; an error in the
// config is a [*Error] that points at its file, line and column.
package config
