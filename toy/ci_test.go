package toy

// ciSteps is the length of the CI run of WGAN-GP on ring8.
const ciSteps = 800
