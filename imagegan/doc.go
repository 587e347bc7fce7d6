// Package imagegan scores image generators of 28x28 gray images with
// Kallima's MNIST feature network (package classifier): FID and KID on its
// fc1 features, an Inception-Score-style score on its class probabilities,
// and precision/recall and density/coverage. A Source is anything that maps
// noise to images (a family's generator through pipeline.SourceOf, or a
// Replay of real images), a Reference the real set it is compared with.
// Training lives in package pipeline.
package imagegan
