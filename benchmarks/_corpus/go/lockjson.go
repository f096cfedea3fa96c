// A request path with a contended sync.Mutex and an encoding/json hot path, beside an idle
// worker pool: the bottleneck is known by construction.
//
//   - 32 request goroutines loop on handle(): encode a response with encoding/json (CPU), then
//     take one sync.Mutex around a 1 ms "write" (the lock is held while the holder sleeps, so
//     the other goroutines pile up on it: contention at main.handle).
//   - 96 idle workers wait on a channel that never gets a job, and main waits on a
//     sync.WaitGroup: benign waits, not a bottleneck.
//
// Usage: go run lockjson.go -out DIR [-seconds 4]. Writes cpu.pb.gz (the whole run),
// mutex.pb.gz, block.pb.gz, heap.pb.gz and goroutine.pb.gz (at the end of the run) into DIR.
// Standard library only.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

type item struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Score float64           `json:"score"`
}

type response struct {
	Items []item `json:"items"`
	Total int    `json:"total"`
}

var (
	mu      sync.Mutex
	written int
	payload response
)

func init() {
	for i := 0; i < 1500; i++ {
		payload.Items = append(payload.Items, item{
			ID:    i,
			Name:  "item-name-for-the-response",
			Tags:  []string{"alpha", "beta", "gamma"},
			Score: float64(i) * 1.5,
		})
	}
	payload.Total = len(payload.Items)
}

// handle is one request: serialize the response, then record it under the lock.
func handle() int {
	body, err := json.Marshal(&payload)
	if err != nil {
		log.Fatal(err)
	}
	mu.Lock()
	written += len(body)
	time.Sleep(time.Millisecond) // a slow write while holding the lock
	mu.Unlock()
	return len(body)
}

func requests(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		default:
			handle()
		}
	}
}

// idleWorker serves jobs that never come: an idle pool.
func idleWorker(jobs <-chan func(), wg *sync.WaitGroup) {
	defer wg.Done()
	for job := range jobs {
		job()
	}
}

func write(dir, name string) {
	f, err := os.Create(filepath.Join(dir, name+".pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
}

func main() {
	out := flag.String("out", ".", "folder for the profiles")
	seconds := flag.Float64("seconds", 4, "how long to run")
	flag.Parse()
	runtime.SetMutexProfileFraction(5)
	runtime.SetBlockProfileRate(100000) // one event per 100 µs blocked, on average
	cpu, err := os.Create(filepath.Join(*out, "cpu.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		log.Fatal(err)
	}
	stop := make(chan struct{})
	jobs := make(chan func())
	var busy, idle sync.WaitGroup
	for i := 0; i < 96; i++ {
		idle.Add(1)
		go idleWorker(jobs, &idle)
	}
	for i := 0; i < 32; i++ {
		busy.Add(1)
		go requests(stop, &busy)
	}
	go func() {
		time.Sleep(time.Duration(*seconds * float64(time.Second)))
		// the snapshots, while the pile-up is there
		write(*out, "goroutine")
		write(*out, "heap")
		close(stop)
	}()
	busy.Wait() // benign: main waits for the request goroutines for the whole run
	close(jobs)
	idle.Wait()
	pprof.StopCPUProfile()
	cpu.Close()
	write(*out, "mutex")
	write(*out, "block")
	log.Printf("wrote %d bytes under the lock", written)
}
