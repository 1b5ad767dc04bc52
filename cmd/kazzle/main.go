// Command kazzle is the secrets vault, its command-line tool and its build/deploy
// toolchain in one binary. See `kazzle help`.
package main

import (
	"os"

	"github.com/kazzle/kazzle/cmd"
)

func main() { os.Exit(cmd.Main(os.Args[1:])) }
