// Command awsfake serves internal/awsfake on loopback until it is stopped, for the demo
// and for trying kazzle deploy by hand. Its first line of output is the shell command
// that points the AWS SDK at it; then it serves until SIGINT or SIGTERM:
//
//	go run ./internal/awsfake/cmd/awsfake -seed fixtures/demo/aws.json > aws.env &
//	. ./aws.env   # once the line is there
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kazzle/kazzle/internal/awsfake"
)

func main() {
	seed := flag.String("seed", "", "a JSON file of resources to create first (see awsfake.Seed)")
	updateDelay := flag.Duration("update-delay", time.Second, "how long a Lambda update stays InProgress")
	flag.Parse()
	fake, err := awsfake.Start(awsfake.Options{UpdateDelay: *updateDelay})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer fake.Close()
	if *seed != "" {
		f, err := os.Open(*seed)
		if err == nil {
			err = fake.Seed(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	akid, secret := fake.Credentials()
	fmt.Printf("export AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", fake.URL, fake.Region(), akid, secret)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
