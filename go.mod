module github.com/kallima-gan/kallima

go 1.26.8

require (
	golang.org/x/image v0.47.0
	gonum.org/v1/gonum v0.17.0
	google.golang.org/protobuf v1.36.12
	gopkg.in/yaml.v3 v3.0.1
)
