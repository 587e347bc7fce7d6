//go:build cgo

package optim

/*
#cgo CFLAGS: -O2
#include <immintrin.h>

// Adam's update as updateGo does it, one rounding per operation in the same
// order and no fused multiply-add, so that every path gives updateGo's
// bits: vsqrtps and vdivps round correctly, as Go's float32 square root
// and division do. Intrinsics rather than the vectoriser: gcc keeps a
// scalar sqrtf for errno, and cgo refuses -fno-math-errno.

// sse2 set takes the SSE2 loop on an AVX2 machine too (for the tests).
struct adam { float b1, b2, c1, c2, eps, wd, decay, bc2, step; int decoupled, l2, sse2; };

static inline float adam_one(const struct adam *k, float th, float g, float *m, float *v) {
	if (k->decoupled) th *= k->decay;
	float d = g;
	if (k->l2) d += k->wd * th;
	*m = *m * k->b1 + k->c1 * d;
	*v = *v * k->b2 + k->c2 * d * d;
	float den = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(*v))) / k->bc2 + k->eps;
	return th + k->step * (*m / den);
}

__attribute__((target("avx2")))
static long adam_avx2(const struct adam *k, float *th, const float *g, float *m, float *v, long n) {
	__m256 b1 = _mm256_set1_ps(k->b1), b2 = _mm256_set1_ps(k->b2), c1 = _mm256_set1_ps(k->c1),
	       c2 = _mm256_set1_ps(k->c2), eps = _mm256_set1_ps(k->eps), wd = _mm256_set1_ps(k->wd),
	       bc2 = _mm256_set1_ps(k->bc2), step = _mm256_set1_ps(k->step), decay = _mm256_set1_ps(k->decay);
	long j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256 t = _mm256_loadu_ps(th + j), d = _mm256_loadu_ps(g + j);
		if (k->decoupled) t = _mm256_mul_ps(t, decay);
		if (k->l2) d = _mm256_add_ps(d, _mm256_mul_ps(wd, t));
		__m256 mj = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + j), b1), _mm256_mul_ps(c1, d));
		__m256 vj = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + j), b2), _mm256_mul_ps(_mm256_mul_ps(c2, d), d));
		__m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vj), bc2), eps);
		_mm256_storeu_ps(m + j, mj);
		_mm256_storeu_ps(v + j, vj);
		_mm256_storeu_ps(th + j, _mm256_add_ps(t, _mm256_mul_ps(step, _mm256_div_ps(mj, den))));
	}
	return j;
}

static long adam_sse2(const struct adam *k, float *th, const float *g, float *m, float *v, long n) {
	__m128 b1 = _mm_set1_ps(k->b1), b2 = _mm_set1_ps(k->b2), c1 = _mm_set1_ps(k->c1),
	       c2 = _mm_set1_ps(k->c2), eps = _mm_set1_ps(k->eps), wd = _mm_set1_ps(k->wd),
	       bc2 = _mm_set1_ps(k->bc2), step = _mm_set1_ps(k->step), decay = _mm_set1_ps(k->decay);
	long j = 0;
	for (; j + 4 <= n; j += 4) {
		__m128 t = _mm_loadu_ps(th + j), d = _mm_loadu_ps(g + j);
		if (k->decoupled) t = _mm_mul_ps(t, decay);
		if (k->l2) d = _mm_add_ps(d, _mm_mul_ps(wd, t));
		__m128 mj = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + j), b1), _mm_mul_ps(c1, d));
		__m128 vj = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + j), b2), _mm_mul_ps(_mm_mul_ps(c2, d), d));
		__m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vj), bc2), eps);
		_mm_storeu_ps(m + j, mj);
		_mm_storeu_ps(v + j, vj);
		_mm_storeu_ps(th + j, _mm_add_ps(t, _mm_mul_ps(step, _mm_div_ps(mj, den))));
	}
	return j;
}

static int kallima_adam_avx2(void) {
	static int avx2 = -1;
	if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return avx2;
}

static void kallima_adam(const struct adam *k, float *th, const float *g, float *m, float *v, long n) {
	long j = kallima_adam_avx2() && !k->sse2 ? adam_avx2(k, th, g, m, v, n) : adam_sse2(k, th, g, m, v, n);
	for (; j < n; j++) th[j] = adam_one(k, th[j], g[j], m + j, v + j);
}
*/
import "C"

// minAdamC is the least parameter size handed to C: below it the call's
// own cost (tens of nanoseconds) is more than the loop saves.
const minAdamC = 64

// update applies the step to theta with gradient g and moments m, v (all
// of theta's length), in C's vector loop: Go does not vectorise the
// updateGo loop, whose square root and two divisions per element made
// Adam about 15% of a BiGAN step (docs/PERFORMANCE.md).
func (k *adamStep) update(theta, g, m, v []float32) {
	n := len(theta)
	if n < minAdamC {
		k.updateGo(theta, g, m, v)
		return
	}
	g, m, v = g[:n], m[:n], v[:n]
	c := C.struct_adam{b1: C.float(k.b1), b2: C.float(k.b2), c1: C.float(k.c1), c2: C.float(k.c2), eps: C.float(k.eps),
		wd: C.float(k.wd), decay: C.float(k.decay), bc2: C.float(k.bc2), step: C.float(k.stepSize),
		decoupled: cbool(k.decoupled), l2: cbool(k.l2), sse2: cbool(adamSSE2)}
	C.kallima_adam(&c, (*C.float)(&theta[0]), (*C.float)(&g[0]), (*C.float)(&m[0]), (*C.float)(&v[0]), C.long(n))
}

// adamSSE2 makes update take the SSE2 loop even where AVX2 is there, so
// that the tests check both on an AVX2 machine.
var adamSSE2 bool

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// adamKernel names the implementation of update compiled in.
var adamKernel = func() string {
	if C.kallima_adam_avx2() != 0 {
		return "c-avx2"
	}
	return "c-sse2"
}()
