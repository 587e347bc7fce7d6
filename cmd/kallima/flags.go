package main

import (
	"flag"
	"fmt"
	"io"
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
