package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/serve"
)

// Serve a run folder: train a tiny 2-D run, load it and ask the API for
// its models and a scatter plot of 100 samples.
func ExampleNew() {
	root, _ := os.MkdirTemp("", "kallima-example-")
	defer os.RemoveAll(root)
	c, _ := config.Parse(strings.NewReader("data: {kind: ring8}\ntrain: {steps: 3, batch: 16, log_every: 0, sample_every: 0}\n"))
	dir := filepath.Join(root, "ring8")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		fmt.Println(err)
		return
	}

	s, err := serve.New([]string{dir}, serve.Options{MaxN: 256})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler()) // or s.HTTPServer(":8080").ListenAndServe()
	defer ts.Close()

	res, _ := http.Get(ts.URL + "/v1/models")
	var list struct{ Models []serve.ModelInfo }
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	for _, m := range list.Models {
		fmt.Println(m.Name, m.Family, m.Kind, m.Can)
	}
	res, _ = http.Get(ts.URL + "/v1/models/ring8/sample.png?seed=1&n=100")
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	// Output:
	// ring8 mlp points [sample]
	// 200 image/png
}
