package data

import (
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// markedDigits returns n 1x6x6 images, image i blank (-1) but for pixel
// (2, 2), which holds a value unique to i, labelled i mod 10.
func markedDigits(n int) *Set {
	img := make([]float32, n*36)
	for i := range img {
		img[i] = -1
	}
	labels := make([]int, n)
	for i := range n {
		img[i*36+2*6+2] = float32(i) / float32(n)
		labels[i] = i % 10
	}
	return &Set{Images: tensor.FromSlice(img, n, 1, 6, 6), Labels: labels, Classes: strings.Split("0123456789", "")}
}

// mark is the unique value of an image made by markedDigits and the
// index it came from, found as the largest pixel of plane p.
func mark(p []float32, n int) int {
	m := float32(-2)
	for _, v := range p {
		m = max(m, v)
	}
	return int(m*float32(n) + 0.5)
}

func TestDilateErodeSobel(t *testing.T) {
	const h, w = 5, 5
	src := make([]float32, h*w)
	for i := range src {
		src[i] = -1
	}
	src[2*w+2] = 1
	dst := make([]float32, h*w)
	dilate(dst, src, h, w)
	for y := range h {
		for x := range w {
			want := float32(-1)
			if y >= 1 && y <= 3 && x >= 1 && x <= 3 {
				want = 1
			}
			if dst[y*w+x] != want {
				t.Fatalf("dilate of one pixel: (%d,%d) = %v, want %v", y, x, dst[y*w+x], want)
			}
		}
	}
	// A vertical bar three pixels wide erodes to two pixels wide, losing
	// its right column and its bottom row.
	for i := range src {
		src[i] = -1
	}
	for y := range h {
		for x := 1; x <= 3; x++ {
			src[y*w+x] = 1
		}
	}
	erode(dst, src, h, w)
	for y := range h {
		for x := range w {
			want := float32(-1)
			if x >= 1 && x <= 2 && y <= 3 {
				want = 1
			}
			if dst[y*w+x] != want {
				t.Fatalf("erode of a 3-wide bar: (%d,%d) = %v, want %v", y, x, dst[y*w+x], want)
			}
		}
	}
	// The bar's edges light up, its inside and the far background stay dark.
	for i := range src {
		src[i] = -1
	}
	for y := range h {
		for x := 2; x < w; x++ {
			src[y*w+x] = 1
		}
	}
	sobel(dst, src, h, w)
	if dst[2*w+1] != 1 || dst[2*w+2] != 1 {
		t.Errorf("sobel at a 0-to-1 step: %v %v, want 1 1", dst[2*w+1], dst[2*w+2])
	}
	if dst[2*w+3] != -1 {
		t.Errorf("sobel inside the bar: %v, want -1", dst[2*w+3])
	}
}

func TestMakeTaskSplitsAndLabels(t *testing.T) {
	const n = 60
	digits := markedDigits(n)
	for _, name := range []string{"thick", "inverted"} {
		task, err := MakeTask(name, digits, 7)
		if err != nil {
			t.Fatal(err)
		}
		if task.Kind != "unpaired" || task.A.Len() != n/2 || task.B.Len() != n/2 {
			t.Fatalf("%s: kind %s, %d and %d images, want unpaired halves of %d", name, task.Kind, task.A.Len(), task.B.Len(), n)
		}
		seen := map[int]bool{}
		for _, s := range []*Set{task.A, task.B} {
			for i := range s.Len() {
				p, label := s.Get(i)
				if name == "inverted" && s == task.B {
					q := make([]float32, len(p))
					for k, v := range p {
						q[k] = -v
					}
					p = q
				}
				j := mark(p, n)
				if seen[j] {
					t.Fatalf("%s: digit %d is in both halves (or twice)", name, j)
				}
				seen[j] = true
				if label != j%10 {
					t.Fatalf("%s: digit %d labelled %d, want %d", name, j, label, j%10)
				}
			}
		}
		again, _ := MakeTask(name, digits, 7)
		other, _ := MakeTask(name, digits, 8)
		if !slices.Equal(again.B.Images.Data(), task.B.Images.Data()) {
			t.Errorf("%s: the same seed gave another split", name)
		}
		if slices.Equal(other.B.Images.Data(), task.B.Images.Data()) {
			t.Errorf("%s: seeds 7 and 8 gave the same split", name)
		}
	}
	task, err := MakeTask("width", digits, 7)
	if err != nil {
		t.Fatal(err)
	}
	if task.Kind != "domains" || task.Domains.Len() != n || len(task.Digits) != n || strings.Join(task.Domains.Classes, ",") != "thin,normal,thick" {
		t.Fatalf("width: kind %s, %d images, %d digits, classes %v", task.Kind, task.Domains.Len(), len(task.Digits), task.Domains.Classes)
	}
	for i := range n {
		p, domain := task.Domains.Get(i)
		if domain != i/(n/3) {
			t.Fatalf("width: image %d in domain %d, want %d", i, domain, i/(n/3))
		}
		lit := 0
		for _, v := range p {
			if v > -1 {
				lit++
			}
		}
		// One marked pixel: eroded away, kept, or dilated to 3x3.
		if want := []int{0, 1, 9}[domain]; lit != want {
			t.Fatalf("width: image %d of domain %d has %d lit pixels, want %d", i, domain, lit, want)
		}
		if domain > 0 && task.Digits[i] != mark(p, n)%10 {
			t.Fatalf("width: image %d's digit %d, want %d", i, task.Digits[i], mark(p, n)%10)
		}
	}
	task, err = MakeTask("edges", digits, 7)
	if err != nil {
		t.Fatal(err)
	}
	if task.Kind != "paired" || task.A.Len() != n || task.B.Len() != n || !slices.Equal(task.B.Images.Data(), digits.Images.Data()) {
		t.Fatalf("edges: kind %s with %d and %d images; B must be the digits", task.Kind, task.A.Len(), task.B.Len())
	}
}

func TestMakeTaskErrors(t *testing.T) {
	if _, err := MakeTask("rotate", markedDigits(10), 1); err == nil || !strings.Contains(err.Error(), "edges, inverted, thick, width") {
		t.Errorf("unknown task: %v, want the known ones listed", err)
	}
	rgb := &Set{Images: tensor.New(4, 3, 6, 6), Labels: make([]int, 4)}
	if _, err := MakeTask("edges", rgb, 1); err == nil || !strings.Contains(err.Error(), "[4 3 6 6]") {
		t.Errorf("colour source: %v, want an error naming the shape", err)
	}
}
