package live_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/serve/live"
)

// ExampleHub_Attach trains a few steps of ring8 with the hub's hook, as
// `kallima train -serve` does, and lists the run through the live routes.
func ExampleHub_Attach() {
	hub := live.NewHub(live.Options{})
	defer hub.Close()
	mux := http.NewServeMux()
	hub.Register(mux) // serve.Options.Extra
	c := config.Default()
	c.Train.Steps, c.Train.Batch, c.Train.SampleN = 5, 32, 100
	hook := hub.Attach(context.Background(), "ring8", "", true, c.Train.Steps)
	if _, err := pipeline.Run(context.Background(), c, pipeline.Options{OnStep: hook}); err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/live", nil))
	fmt.Print(rec.Body.String())
	// Output:
	// {"runs":[{"name":"ring8","dir":"","kind":"points","step":5,"steps":5,"paused":false,"in_process":true}]}
}
