package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/kallima-gan/kallima/gan"
)

// flagSet returns a flag set for command name whose usage prints head, the
// flags and examples. Every command parses it with parseCommand.
func flagSet(name, head, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), head)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), examples)
	}
	return fs
}

// parseCommand parses args with fs, flags before or after the positional
// arguments, which it returns. -h prints the usage once, to stdout; a bad
// flag prints the error and the usage to stderr. done reports that the
// command should return code.
func parseCommand(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, done bool) {
	usage := fs.Usage
	fs.Usage = func() {} // the flag package calls it itself; printed below, once
	fs.SetOutput(io.Discard)
	pos, err := parseArgs(fs, args)
	fs.Usage = usage
	switch {
	case err == flag.ErrHelp:
		fs.SetOutput(stdout)
		fs.Usage()
		return nil, exitOK, true
	case err != nil:
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		fs.Usage()
		return nil, exitUsage, true
	}
	fs.SetOutput(stderr)
	return pos, exitOK, false
}

// parseArgs parses args with fs, allowing flags after the positional
// arguments (kallima sample RUN -n 4), and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// truncationFlags adds -truncation and -truncation-mode to fs; the
// returned function checks them after parsing and returns the truncation
// (the zero value when -truncation is not given). sweeping says that
// another flag gives the thresholds (eval's -truncation-sweep), so
// -truncation-mode may come alone.
func truncationFlags(fs *flag.FlagSet) func(sweeping bool) (gan.Truncation, error) {
	thr := fs.Float64("truncation", 0, "truncation trick: draw noise within this bound (resample) or scaled by it (scale); 0 for none")
	mode := fs.String("truncation-mode", "resample", "how -truncation truncates: resample (values beyond the bound drawn again, BigGAN's), clamp, or scale (psi, StyleGAN's in z)")
	return func(sweeping bool) (gan.Truncation, error) {
		t := gan.Truncation{Threshold: *thr, Mode: *mode}
		if isSet(fs, "truncation-mode") && !isSet(fs, "truncation") && !sweeping {
			return t, fmt.Errorf("-truncation-mode %s: give -truncation too", *mode)
		}
		if isSet(fs, "truncation") && *thr == 0 {
			return t, fmt.Errorf("-truncation 0: give a positive threshold, or leave the flag out for none")
		}
		if err := t.Validate(); err != nil {
			return t, fmt.Errorf("-%v", err)
		}
		return t, nil
	}
}

// optionalInt adds an integer flag that may be left out: the returned int
// is -1 until the flag is given. Its usage names no "(default -1)", which
// the flag package would print for an fs.Int; usage should say what
// leaving it out does, and backquote the value's name (see
// flag.UnquoteUsage).
func optionalInt(fs *flag.FlagSet, name, usage string) *int {
	v := -1
	fs.Var(&optInt{p: &v}, name, usage)
	return &v
}

// optInt is optionalInt's flag.Value; its zero value and an unset one
// print as "", so PrintDefaults shows no default.
type optInt struct {
	p   *int
	set bool
}

func (o *optInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(*o.p)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	*o.p, o.set = v, true
	return nil
}
