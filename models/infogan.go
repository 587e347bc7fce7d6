package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// InfoDiscriminator is InfoGAN's discriminator with its Q head (Chen et
// al. 2016, arXiv:1606.03657, appendix C.1): a DCGAN discriminator whose
// convolutional trunk is shared by D's logit and by Q, a small fully
// connected head on the same features phi(x):
//
//	phi(x) -> Linear(FeatureDim -> Hidden) -> BatchNorm1d (none when D has none) -> LeakyReLU(0.2)
//	       -> Linear(Hidden -> QDim)
//
// (the paper's Q for MNIST: FC 128, batch norm, leaky ReLU, FC to the
// code parameters). One module, so D and Q train as one player.
//
// State names: d.* (the DCGANDiscriminator's), q.fc.{weight,bias},
// q.bn.*, q.out.{weight,bias}.
type InfoDiscriminator struct {
	D     *DCGANDiscriminator
	QFC   *nn.Linear
	QBN   *nn.BatchNorm // nil without batch norm
	QAct  nn.Layer
	QOut  *nn.Linear
	qDims int
}

// NewInfoDiscriminator builds the discriminator c describes with a Q head
// of hidden units and qDim outputs, drawing weights from rng. It returns
// an error naming the field if c is invalid or hidden or qDim is not
// positive.
func NewInfoDiscriminator(c DCGANConfig, hidden, qDim int, rng *tensor.RNG) (*InfoDiscriminator, error) {
	if hidden <= 0 || qDim <= 0 {
		return nil, fmt.Errorf("infogan: Q head of %d hidden units and %d outputs: both must be positive", hidden, qDim)
	}
	d, err := NewDCGANDiscriminator(c, rng)
	if err != nil {
		return nil, err
	}
	m := &InfoDiscriminator{D: d, QAct: nn.LeakyReLU{Slope: 0.2}, qDims: qDim}
	m.QFC = nn.NewLinear(d.FeatureDim(), hidden, rng)
	if !c.NoBatchNorm && !c.SpectralNorm {
		m.QFC.Bias = nil
		m.QBN = newBN(hidden, false, c.NormalInit, rng)
	}
	m.QOut = nn.NewLinear(hidden, qDim, rng)
	if c.NormalInit {
		normalInit(m.QFC.Weight, m.QFC.Bias, rng)
		normalInit(m.QOut.Weight, m.QOut.Bias, rng)
	}
	return m, nil
}

// QDim is the width of Q's output.
func (m *InfoDiscriminator) QDim() int { return m.qDims }

// Forward returns D's logits [N, 1] of images x [N, C, H, W].
func (m *InfoDiscriminator) Forward(x *autograd.Value) *autograd.Value { return m.D.Forward(x) }

// ForwardQ returns D's logits [N, 1] and Q's outputs [N, QDim] of images
// x, through the shared trunk once.
func (m *InfoDiscriminator) ForwardQ(x *autograd.Value) (logits, q *autograd.Value) {
	f, logits := m.D.Features(x)
	h := m.QFC.Forward(f)
	if m.QBN != nil {
		h = m.QBN.Forward(h)
	}
	return logits, m.QOut.Forward(m.QAct.Forward(h))
}

func (m *InfoDiscriminator) children() nn.Children {
	return nn.Children{{Name: "d", Module: m.D}, {Name: "q.fc", Module: m.QFC}, {Name: "q.bn", Module: m.QBN}, {Name: "q.out", Module: m.QOut}}
}

// Params lists D's parameters, then Q's.
func (m *InfoDiscriminator) Params(prefix string) []nn.Param { return m.children().Params(prefix) }

// Buffers lists the batch norms' running statistics and spectral norm's
// vectors.
func (m *InfoDiscriminator) Buffers(prefix string) []nn.Buffer {
	return m.children().Buffers(prefix)
}

// SetTraining switches D's and Q's batch norms.
func (m *InfoDiscriminator) SetTraining(on bool) { m.children().SetTraining(on) }
