//go:build tools

// Package tools records the Go tools the project builds, so that go.mod pins them.
package tools

import _ "github.com/open-policy-agent/opa-envoy-plugin/cmd/opa-envoy-plugin"
