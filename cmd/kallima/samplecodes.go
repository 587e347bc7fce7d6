package main

import "github.com/kallima-gan/kallima/pipeline"

// codeFlags is sample's repeatable -code flag (pipeline.CodeSpec parses
// it and lays out the batch).
type codeFlags struct{ pipeline.CodeSpec }
