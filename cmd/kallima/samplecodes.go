package main

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/pipeline"
)

// codeFlags is sample's repeatable -code flag (pipeline.CodeSpec parses
// it and lays out the batch).
type codeFlags struct{ pipeline.CodeSpec }

// check reports a code g does not have or a fixed value its code cannot
// take. CodeSpec.Batch checks names and traversals but leaves fixed values
// to the generator, whose error comes only when drawing, so a bad -code
// c1=10 was a failed run (exit 1) instead of a usage error like the rest.
func (c *codeFlags) check(g family.Coded) error {
	for _, name := range c.Names {
		code, err := family.FindCode(g, name)
		if err != nil {
			return err
		}
		v, fixed := c.Fixed[name]
		if !fixed { // the traversal, which Batch checks
			continue
		}
		if code.Categories > 0 {
			if v != math.Trunc(v) || v < 0 || v >= float64(code.Categories) {
				return fmt.Errorf("code %s = %g: a categorical code takes a category 0 to %d", name, v, code.Categories-1)
			}
			continue
		}
		if v < code.Lo || v > code.Hi {
			return fmt.Errorf("code %s = %g out of the code's range [%g, %g]", name, v, code.Lo, code.Hi)
		}
	}
	return nil
}
