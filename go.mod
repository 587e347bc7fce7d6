module github.com/kallima-gan/kallima

go 1.26.8
