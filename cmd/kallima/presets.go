package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kallima-gan/kallima/config"
)

const presetsUsage = `Usage: kallima presets [NAME]

Without NAME, lists the embedded presets: the family each trains, its data,
its length in steps and what it is. With NAME, prints that preset's file:
the comment that says what it trains, from which paper and why its
settings, then its YAML, which kallima train -config reads, so it is a
starting point for a config of one's own.
`

const presetsExamples = `
Examples:
  kallima presets
  kallima presets dcgan-mnist
  kallima presets dcgan-mnist > mine.yaml && kallima train -config mine.yaml -out runs/mine
`

// summaryWidth is how much of a preset's description the list shows.
const summaryWidth = 64

func runPresets(args []string, stdout, stderr io.Writer) int {
	fset := flagSet("kallima presets", presetsUsage, presetsExamples)
	pos, code, done := parseCommand(fset, args, stdout, stderr)
	if done {
		return code
	}
	switch len(pos) {
	case 0:
	case 1:
		b, err := config.PresetFile(pos[0])
		if err != nil {
			fmt.Fprintf(stderr, "kallima presets: %v\n", err)
			return exitUsage
		}
		if _, err := stdout.Write(b); err != nil {
			fmt.Fprintf(stderr, "kallima presets: %v\n", err)
			return exitError
		}
		return exitOK
	default:
		fmt.Fprintf(stderr, "kallima presets: want one preset name at most, got %d arguments (see kallima presets -h)\n", len(pos))
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODEL\tDATA\tSTEPS\tWHAT IT IS")
	for _, name := range config.Presets() {
		c, err := config.Preset(name)
		about, aboutErr := config.PresetAbout(name)
		if err := errors.Join(err, aboutErr); err != nil {
			fmt.Fprintf(stderr, "kallima presets: %v\n", err)
			return exitError
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", name, c.Model.Kind, c.Data.Kind, c.Train.Steps, summary(about, summaryWidth))
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nkallima presets NAME prints one whole; kallima train -preset NAME trains it.")
	return exitOK
}

// summary is a description without its parenthesised asides (citations,
// details), up to its first ": " or ". ", cut at a word boundary to at
// most width characters.
func summary(about string, width int) string {
	var b strings.Builder
	depth := 0
	for _, r := range about {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	for _, p := range []string{",", ":", ";", "."} {
		s = strings.ReplaceAll(s, " "+p, p) // where an aside was
	}
	for _, end := range []string{": ", ". "} {
		if i := strings.Index(s, end); i >= 0 {
			s = s[:i]
		}
	}
	s = strings.TrimSuffix(s, ".")
	if len(s) <= width {
		return s
	}
	cut := strings.LastIndex(s[:width-3], " ")
	if cut <= 0 {
		cut = width - 3
	}
	return strings.TrimRight(s[:cut], " ,;") + "..."
}
