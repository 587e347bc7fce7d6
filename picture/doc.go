// Package picture turns tensors into pictures for a training run: sample
// grids (Grid, like torchvision's make_grid), atomic PNG files (SavePNG),
// animated GIFs of latent interpolations (EncodeGIF, SaveGIF), and the
// scatter/density plot of the 2-D toy benchmark (Scatter, ScatterPlot).
//
// Image tensors are NCHW with values in [-1, 1] (a tanh generator's range);
// values outside are clamped. Pixel values follow torchvision's save_image:
// byte = floor(clamp((v+1)/2, 0, 1)*255 + 0.5).
package picture
