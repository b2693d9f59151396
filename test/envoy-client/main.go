// Command envoy-client sends Envoy ext_authz CheckRequests to an Authorization server, as Envoy
// would, built on Envoy's own Go types (go-control-plane) and grpc-go. It is the Go half of the
// interoperability tests: an implementation independent of the Node client.
//
// It reads JSON lines from stdin, each {"id": "...", "request": <CheckRequest in protojson>}, sends
// each to the server named by -addr, and writes one JSON line per request to stdout:
// {"id": "...", "code": <gRPC status code>, "message": "...", "response": <CheckResponse in protojson>}.
//
// With -rate it is instead a load generator (load.go): the requests, sent open loop at that rate for
// -duration, and one JSON line of latencies and failures.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

type line struct {
	ID      string          `json:"id"`
	Request json.RawMessage `json:"request"`
}

type answer struct {
	ID       string          `json:"id"`
	Code     uint32          `json:"code"`
	Message  string          `json:"message,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

func main() {
	addr := flag.String("addr", "", "host:port of the ext_authz server (loopback)")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline of each Check")
	rate := flag.Float64("rate", 0, "load mode: Checks per second, open loop, sent in turn from the input's requests")
	duration := flag.Duration("duration", 4*time.Second, "load mode: how long to send")
	connections := flag.Int("connections", 4, "load mode: gRPC connections, each Check on the next in turn")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "envoy-client: -addr is required")
		os.Exit(2)
	}
	if *rate > 0 {
		if err := load(*addr, os.Stdin, os.Stdout, *rate, *duration, *timeout, *connections); err != nil {
			fmt.Fprintln(os.Stderr, "envoy-client:", err)
			os.Exit(1)
		}
		return
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "envoy-client:", err)
		os.Exit(1)
	}
	defer conn.Close()
	client := authv3.NewAuthorizationClient(conn)

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var l line
		if err := json.Unmarshal(in.Bytes(), &l); err != nil {
			fmt.Fprintln(os.Stderr, "envoy-client: bad input line:", err)
			os.Exit(2)
		}
		req := &authv3.CheckRequest{}
		if err := protojson.Unmarshal(l.Request, req); err != nil {
			fmt.Fprintf(os.Stderr, "envoy-client: %s: not a CheckRequest: %v\n", l.ID, err)
			os.Exit(2)
		}
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		resp, err := client.Check(ctx, req)
		cancel()
		a := answer{ID: l.ID}
		if err != nil {
			st := status.Convert(err)
			a.Code, a.Message = uint32(st.Code()), st.Message()
		} else if a.Response, err = (protojson.MarshalOptions{UseEnumNumbers: true}).Marshal(resp); err != nil {
			fmt.Fprintln(os.Stderr, "envoy-client:", err)
			os.Exit(1)
		}
		if err := out.Encode(a); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "envoy-client:", err)
		os.Exit(1)
	}
}
