// Package web is Kallima's web page, embedded in the binary: plain HTML,
// JavaScript and CSS with no build step and nothing fetched from
// elsewhere. It has three views over the serve API (package serve) and
// the live routes (package serve/live):
//
//   - Explorer: pick a model; seed, class, truncation and latent-code
//     sliders redraw its sample grid; interpolation between two seeds; an
//     image to translate for translation models.
//   - Live: loss curves (and evaluation scores) of a run as it trains,
//     and its newest sample grid, from server-sent events.
//   - 2-D: for a 2-D run trained in this process, D's value as a heat
//     map over the plane, real and generated points, the generator's
//     gradient arrows, the warped noise grid, and pause and step buttons.
//
// Every control has an id (#model, #seed, #class, #truncation, img#sample,
// canvas#curves, canvas#field, #pause, #step, ...), which the browser test
// drives.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the page: index.html at "/" and the assets under
// "/static/". Other paths are 404.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", noCache(files)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, sub, "index.html")
	})
	return mux
}

// noCache makes the browser revalidate the assets, so a new binary's page
// is never mixed with an old script.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
