package cmd

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/kazzle/kazzle/api"
)

// loadAWSConfig loads the AWS configuration the standard way (environment, shared
// files, AWS_ENDPOINT_URL, AWS_CA_BUNDLE) for every AWS client kazzle makes: the deploy
// targets and the server's KMS key wrapper.
//
// Its HTTP client follows no redirect. The SDK's own follows 307 and 308, which repeat
// the request with its body (a secret being written to SSM or Lambda, a data key to
// decrypt) and its signed headers to whatever address the answer names, http://
// included. A 3xx is an error of the call instead.
func loadAWSConfig(ctx context.Context, opts ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws configuration: %w", err)
	}
	cfg.HTTPClient = awsNoRedirects(cfg.HTTPClient)
	return cfg, nil
}

// awsNoRedirects is the client that replaces the configuration's: the SDK's transport,
// with the trusted CAs (AWS_CA_BUNDLE), proxy and timeouts the loaded configuration gave
// it, under an http.Client that returns a 3xx as it is.
func awsNoRedirects(hc aws.HTTPClient) *http.Client {
	b, ok := hc.(*awshttp.BuildableClient)
	if !ok {
		b = awshttp.NewBuildableClient()
	}
	return api.NoRedirects(&http.Client{Transport: b.GetTransport(), Timeout: b.GetTimeout()})
}
