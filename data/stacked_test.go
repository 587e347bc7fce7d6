package data

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// digitSource returns m 1-channel 4x4 "digits": image j is filled with
// j/1000, so a stacked channel names the digit it was copied from, and is
// labelled j mod 10.
func digitSource(m int) *Set {
	img := make([]float32, m*16)
	labels := make([]int, m)
	for j := range m {
		labels[j] = j % 10
		for k := range 16 {
			img[j*16+k] = float32(j) / 1000
		}
	}
	names := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return &Set{Images: tensor.FromSlice(img, m, 1, 4, 4), Labels: labels, Classes: names}
}

// TestStackedMNIST: each channel of each image is a whole source digit, the
// label is 100*d1 + 10*d2 + d3 of its R, G, B digits, the draws cover the
// source, and the set is 1000 classes named 000..999.
func TestStackedMNIST(t *testing.T) {
	src := digitSource(200)
	const n = 3000
	s, err := StackedMNIST(src, n, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Images.Shape(); !slices.Equal(got, []int{n, 3, 4, 4}) || len(s.Labels) != n {
		t.Fatalf("shape %v with %d labels, want [%d 3 4 4] with %d", got, len(s.Labels), n, n)
	}
	if len(s.Classes) != 1000 || s.Classes[7] != "007" || s.Classes[999] != "999" {
		t.Errorf("classes %d (%q, %q), want 1000 named 000..999", len(s.Classes), s.Classes[7], s.Classes[999])
	}
	used := map[int]bool{}
	sameRG := 0
	d := s.Images.Data()
	for i := range n {
		var js [3]int
		for ch := range 3 {
			plane := d[(i*3+ch)*16 : (i*3+ch+1)*16]
			j := int(math.Round(float64(plane[0]) * 1000))
			for _, v := range plane {
				if v != plane[0] {
					t.Fatalf("image %d channel %d is not one whole source digit", i, ch)
				}
			}
			js[ch] = j
			used[j] = true
		}
		if want := 100*(js[0]%10) + 10*(js[1]%10) + js[2]%10; s.Labels[i] != want {
			t.Fatalf("image %d: digits %v labelled %d, want %d", i, js, s.Labels[i], want)
		}
		if js[0] == js[1] {
			sameRG++
		}
	}
	// 9000 uniform draws from 200 digits miss each with probability
	// (199/200)^9000 ~ 3e-20; R and G are independent, equal 1 time in 200.
	if len(used) != 200 {
		t.Errorf("the draws used %d of the 200 source digits, want all", len(used))
	}
	if sameRG > 60 {
		t.Errorf("R and G are the same digit in %d of %d images, want about %d (independent draws)", sameRG, n, n/200)
	}
}

// TestStackedMNISTSeed: the same seed gives the same set, another seed
// another.
func TestStackedMNISTSeed(t *testing.T) {
	src := digitSource(50)
	a, _ := StackedMNIST(src, 100, 3)
	b, _ := StackedMNIST(src, 100, 3)
	c, _ := StackedMNIST(src, 100, 4)
	if !slices.Equal(a.Images.Data(), b.Images.Data()) || !slices.Equal(a.Labels, b.Labels) {
		t.Error("seed 3 twice gave two different sets")
	}
	if slices.Equal(a.Labels, c.Labels) {
		t.Error("seeds 3 and 4 gave the same labels")
	}
}

// TestStackedMNISTErrors: a bad size or source is an error naming it.
func TestStackedMNISTErrors(t *testing.T) {
	rgb := &Set{Images: tensor.New(2, 3, 4, 4), Labels: []int{0, 1}, Classes: make([]string, 10)}
	for _, c := range []struct {
		src  *Set
		n    int
		want string
	}{
		{digitSource(5), 0, "0 images"},
		{rgb, 5, "want gray digits"},
		{&Set{Images: tensor.New(2, 1, 4, 4), Labels: []int{0, 1}, Classes: make([]string, 3)}, 5, "in 3 classes"},
	} {
		if _, err := StackedMNIST(c.src, c.n, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("StackedMNIST(n=%d): error %v, want one saying %q", c.n, err, c.want)
		}
	}
}

// TestLoadRGB: the same uint8 images written channels first and channels
// last load the same, byte v as v/127.5 - 1 in channel order; a gray
// array is an error naming the shapes wanted.
func TestLoadRGB(t *testing.T) {
	// side 3 would make [N, 3, 3, 3] ambiguous.
	const n, side = 2, 4
	chw := make([]byte, n*3*side*side) // a distinct byte per image, channel and pixel
	hwc := make([]byte, len(chw))
	for i := range n {
		for ch := range 3 {
			for p := range side * side {
				v := byte(i*100 + ch*30 + p)
				chw[(i*3+ch)*side*side+p] = v
				hwc[(i*side*side+p)*3+ch] = v
			}
		}
	}
	dir := t.TempDir()
	write := func(name string, shape []int, b []byte) string {
		path := dir + "/" + name
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := WriteNPY(f, &NPY{Kind: 'u', Size: 1, Shape: shape, Data: b}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a, _, err := LoadRGB(write("chw.npy", []int{n, 3, side, side}, chw), side, RangeAuto)
	if err != nil {
		t.Fatal(err)
	}
	b, format, err := LoadRGB(write("hwc.npy", []int{n, side, side, 3}, hwc), side, RangeAuto)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Shape(); !slices.Equal(got, []int{n, 3, side, side}) || !slices.Equal(a.Data(), b.Data()) {
		t.Fatalf("channels first %v and channels last (%s) differ", got, format)
	}
	for k, v := range chw {
		if want := float32(v)/127.5 - 1; a.Data()[k] != want {
			t.Fatalf("value %d: %g, want %g", k, a.Data()[k], want)
		}
	}
	if _, _, err := LoadRGB(write("gray.npy", []int{n, side, side}, chw[:n*side*side]), side, RangeAuto); err == nil || !strings.Contains(err.Error(), "want colour images [N, 3, 4, 4] or [N, 4, 4, 3]") {
		t.Errorf("gray array: error %v, want one naming the colour shapes", err)
	}
}
