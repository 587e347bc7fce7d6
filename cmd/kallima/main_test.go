package main

import (
	"bytes"
	"strings"
	"testing"
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
