package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/onnx"
)

// runCmd runs the command in-process and returns its exit code and output.
func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestRunDispatch(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // substrings that must appear
		stderr     []string
		stdoutNone bool
	}{
		{name: "no arguments prints help", args: nil, code: exitOK,
			stdout: []string{"Usage:", "kallima <command>", "bench", "Examples:", "kallima bench dcgan"}},
		{name: "help", args: []string{"help"}, code: exitOK, stdout: []string{"Commands:", "bench"}},
		{name: "-h", args: []string{"-h"}, code: exitOK, stdout: []string{"Commands:"}},
		{name: "help of a command", args: []string{"help", "bench"}, code: exitOK,
			stdout: []string{"Usage: kallima bench", "-iters", "Examples:"}},
		{name: "help of an unknown command", args: []string{"help", "trian"}, code: exitUsage,
			stderr: []string{`unknown command "trian"`, "bench"}, stdoutNone: true},
		{name: "unknown command", args: []string{"trian"}, code: exitUsage,
			stderr: []string{`unknown command "trian"`, "Commands:", "bench"}, stdoutNone: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCmd(c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, errOut)
			}
			for _, s := range c.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range c.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if c.stdoutNone && out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

// TestExportHelpNamesEveryKind: the export command's help and summary
// keep up with the kinds package onnx writes (the summary once named only
// the first four).
func TestExportHelpNamesEveryKind(t *testing.T) {
	_, out, _ := runCmd("help", "export")
	_, list, _ := runCmd("help")
	for _, kind := range append(append([]string{}, onnx.Families...), onnx.Translators...) {
		if !regexp.MustCompile(`\b` + kind + `\b`).MatchString(out) {
			t.Errorf("kallima help export does not name %s", kind)
		}
	}
	line := regexp.MustCompile(`(?m)^  export .*$`).FindString(list)
	for _, kind := range onnx.Translators {
		if !regexp.MustCompile(`\b` + kind + `\b`).MatchString(line) {
			t.Errorf("kallima help's export line does not name %s: %q", kind, line)
		}
	}
}

// TestEveryCommandsFlags: for every command, -h prints its usage once, to
// stdout, and nothing to stderr; an unknown flag exits 2 with the error and
// the usage once on stderr, and nothing on stdout; no flag shows a default
// of -1.
func TestEveryCommandsFlags(t *testing.T) {
	names := []string{"bench toy"}
	for _, c := range commands {
		names = append(names, c.name)
	}
	for _, name := range names {
		args := strings.Fields(name)
		code, out, errOut := runCmd(append(args, "-h")...)
		if code != exitOK || strings.Count(out, "Usage: kallima "+name) != 1 || errOut != "" {
			t.Errorf("%s -h: exit %d, %d usages on stdout, stderr %q", name, code, strings.Count(out, "Usage:"), errOut)
		}
		// A flag that may be left out says what that does, not "(default -1)".
		if strings.Contains(out, "(default -1)") {
			t.Errorf("%s -h shows a default of -1:\n%s", name, out)
		}
		code, out, errOut = runCmd(append(args, "-bogus")...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "-bogus") || strings.Count(errOut, "Usage: kallima "+name) != 1 {
			t.Errorf("%s -bogus: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
}
