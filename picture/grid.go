package picture

import (
	"fmt"
	"image"

	"github.com/kallima-gan/kallima/tensor"
)

// Grid tiles a batch of images [N, C, H, W] with values in [-1, 1] into one
// picture, like torchvision.utils.make_grid(batch, nrow, padding,
// normalize=True, value_range=(-1, 1)): min(nrow, N) images per row,
// ceil(N/nrow) rows, each tile H×W with its top-left corner at
//
//	x = padding + col*(W+padding), y = padding + row*(H+padding)
//
// in a picture of size (cols*(W+padding)+padding) × (rows*(H+padding)+padding)
// whose padding and unused cells are black. Image i sits at row i/nrow,
// column i%nrow. C = 1 gives an *image.Gray, C = 3 an opaque *image.RGBA.
// Values are clamped to [-1, 1] and mapped by ToByte; NaN becomes 0.
//
// It panics if batch is not 4-D, N is 0, C is not 1 or 3, nrow < 1 or
// padding < 0.
func Grid(batch *tensor.Tensor, nrow, padding int) image.Image {
	s := batch.Shape()
	if len(s) != 4 || s[0] == 0 || (s[1] != 1 && s[1] != 3) || nrow < 1 || padding < 0 {
		panic(fmt.Sprintf("picture.Grid: batch shape %v (want [N>0, 1 or 3, H, W]), nrow %d, padding %d", s, nrow, padding))
	}
	n, c, h, w := s[0], s[1], s[2], s[3]
	cols := min(nrow, n)
	rows := (n + cols - 1) / cols
	r := image.Rect(0, 0, cols*(w+padding)+padding, rows*(h+padding)+padding)
	data := batch.Data()
	plane := h * w
	if c == 1 {
		img := image.NewGray(r)
		for i := range n {
			x0, y0 := padding+(i%cols)*(w+padding), padding+(i/cols)*(h+padding)
			src := data[i*plane : (i+1)*plane]
			for y := range h {
				row := img.Pix[(y0+y)*img.Stride+x0:]
				for x := range w {
					row[x] = ToByte(src[y*w+x])
				}
			}
		}
		return img
	}
	img := image.NewRGBA(r)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	for i := range n {
		x0, y0 := padding+(i%cols)*(w+padding), padding+(i/cols)*(h+padding)
		red := data[(i*3+0)*plane : (i*3+1)*plane]
		green := data[(i*3+1)*plane : (i*3+2)*plane]
		blue := data[(i*3+2)*plane : (i*3+3)*plane]
		for y := range h {
			row := img.Pix[(y0+y)*img.Stride+4*x0:]
			for x := range w {
				k := y*w + x
				row[4*x+0] = ToByte(red[k])
				row[4*x+1] = ToByte(green[k])
				row[4*x+2] = ToByte(blue[k])
			}
		}
	}
	return img
}

// ToByte maps a value in [-1, 1] to a byte as torchvision's normalize then
// save_image do, in float32: floor(clamp((v+1)/2, 0, 1)*255 + 0.5), so -1 ->
// 0, 0 -> 128, 1 -> 255. Values outside [-1, 1] are clamped; NaN gives 0.
func ToByte(v float32) uint8 {
	if !(v > -1) { // also catches NaN
		return 0
	}
	if v >= 1 {
		return 255
	}
	// The conversion rounds the product to float32 before the addition, as
	// torch's separate mul and add kernels do (and keeps it from being fused).
	return uint8(float32((v+1)/2*255) + 0.5)
}
