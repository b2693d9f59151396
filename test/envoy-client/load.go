package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// loadRun is what one open-loop run gave, written as one JSON line.
type loadRun struct {
	Sent      int     `json:"sent"`
	Failures  int     `json:"failures"`
	Elapsed   float64 `json:"elapsed_s"`
	LagMicros float64 `json:"lag_us"`
	// Latencies are in microseconds, from each Check's send to its answer, in the order answered.
	Latencies []float64 `json:"latencies_us"`
	// FirstFailure names the first failed Check's status, so a run that fails says why.
	FirstFailure string `json:"first_failure,omitempty"`
}

// load sends the requests read from in, in turn, at rate Checks per second for the duration, spread
// over connections gRPC connections in turn, as Envoy's workers each hold one. The loop is open:
// each Check leaves at its scheduled time whether or not earlier ones were answered, so a server
// that falls behind shows it in its latency rather than slowing the sender.
func load(addr string, in io.Reader, out io.Writer, rate float64, duration, timeout time.Duration, connections int) error {
	var requests []*authv3.CheckRequest
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		var l line
		if err := json.Unmarshal(scanner.Bytes(), &l); err != nil {
			return fmt.Errorf("bad input line: %w", err)
		}
		req := &authv3.CheckRequest{}
		if err := protojson.Unmarshal(l.Request, req); err != nil {
			return fmt.Errorf("%s: not a CheckRequest: %w", l.ID, err)
		}
		requests = append(requests, req)
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	if len(requests) == 0 || rate <= 0 || connections <= 0 {
		return fmt.Errorf("load needs requests, a positive -rate and -connections")
	}
	clients := make([]authv3.AuthorizationClient, connections)
	for i := range clients {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		clients[i] = authv3.NewAuthorizationClient(conn)
		// Connected before the clock starts: a connection's set-up is not a Check's latency.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		_, err = clients[i].Check(ctx, requests[0])
		cancel()
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
	}

	total := int(rate*duration.Seconds() + 0.5)
	interval := time.Duration(float64(time.Second) / rate)
	run := loadRun{Sent: total, Latencies: make([]float64, 0, total)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		sent := time.Now()
		if lag := float64(sent.Sub(due).Microseconds()); lag > run.LagMicros {
			run.LagMicros = lag
		}
		wg.Add(1)
		go func(client authv3.AuthorizationClient, req *authv3.CheckRequest) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			_, err := client.Check(ctx, req)
			cancel()
			took := float64(time.Since(sent).Nanoseconds()) / 1e3
			mu.Lock()
			defer mu.Unlock()
			run.Latencies = append(run.Latencies, took)
			if err != nil {
				run.Failures++
				if run.FirstFailure == "" {
					st := status.Convert(err)
					run.FirstFailure = fmt.Sprintf("%s: %s", st.Code(), st.Message())
				}
			}
		}(clients[i%connections], requests[i%len(requests)])
	}
	wg.Wait()
	run.Elapsed = time.Since(start).Seconds()
	return json.NewEncoder(out).Encode(run)
}
