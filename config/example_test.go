package config_test

import (
	"fmt"
	"strings"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/family/all" // every family's model: section
)

// A config starts from an embedded preset (or Parse of a YAML file), takes
// -set style overrides and is validated before anything trains; a bad value
// is an error naming the field.
func ExamplePreset() {
	c, err := config.Preset("dcgan-mnist")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Set("train.steps=500"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Model.Kind, c.Train.Steps, c.Validate())
	fmt.Println(c.Set("train.lr_d=fast") != nil)
	_, err = config.Parse(strings.NewReader("train: {steps: 10, lr_d: fast}\n"))
	fmt.Println(err)
	// Output:
	// dcgan 500 <nil>
	// true
	// train.lr_d: line 1: "fast" is not a number
}
