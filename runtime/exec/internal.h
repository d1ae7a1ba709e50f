/* internal.h - shared inside runtime/exec only. */
#ifndef SNG_EXEC_INTERNAL_H
#define SNG_EXEC_INTERNAL_H

#include "sng_exec.h"
#include "sng_ops.h"

typedef void (*SngRtKernel)(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                            const SngPlanTensor *tout);
extern const SngRtKernel sng_rt_kernels[SNG_OP__COUNT];

/* Copies (or adds) a box of `ext` elements between two row-major tensors: src starting at
 * sstart in a tensor of shape sdims, into dst at dstart in a tensor of shape ddims. */
void sng_rt_box_copy(float *dst, const int64_t *ddims, const int64_t *dstart, const float *src,
                     const int64_t *sdims, const int64_t *sstart, const int64_t *ext, int rank, int add);

/* conv2d, pool, reshape (conv.c) */
#define SNG_RT_KERNEL_DECL(name) \
  void name(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out, const SngPlanTensor *tout)
SNG_RT_KERNEL_DECL(rt_conv2d);
SNG_RT_KERNEL_DECL(rt_conv2d_bwd_data);
SNG_RT_KERNEL_DECL(rt_conv2d_bwd_filter);
SNG_RT_KERNEL_DECL(rt_chan_sum);
SNG_RT_KERNEL_DECL(rt_pool);
SNG_RT_KERNEL_DECL(rt_pool_bwd);
SNG_RT_KERNEL_DECL(rt_reshape);
/* conv2d on oneDNN (conv_dnnl.c): 0, or -1 when oneDNN cannot run it (then im2col + OpenBLAS) */
int sng_rt_conv_dnnl_fwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout);
int sng_rt_conv_dnnl_bwd_data(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                              const SngPlanTensor *tout);
int sng_rt_conv_dnnl_bwd_weights(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                                 const SngPlanTensor *tout);

/* What a C kernel may know of the run besides its tensors, set by sng_exec_run on the
 * worker's thread: training or tests (ops that differ: dropout, batchnorm), and the seed and
 * step that, with an element's index in the whole batch, fix a dropout mask. */
typedef struct SngRtCtx { int train; uint64_t seed; int64_t step; } SngRtCtx;
extern _Thread_local SngRtCtx sng_rt_ctx;

/* normalisation and dropout (runtime/exec/norm.c) */
void sng_rt_dropout(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                    const SngPlanTensor *tout);
void sng_rt_dropout_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                        const SngPlanTensor *tout);
void sng_rt_sample(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                   const SngPlanTensor *tout);
void sng_rt_cd_loss(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                    const SngPlanTensor *tout);
void sng_rt_lrn(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                const SngPlanTensor *tout);
void sng_rt_lrn_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                    const SngPlanTensor *tout);
void sng_rt_bn_stats(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                     const SngPlanTensor *tout);
void sng_rt_bn_stats_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                         const SngPlanTensor *tout);
void sng_rt_batchnorm(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                      const SngPlanTensor *tout);
void sng_rt_bn_bwd(const SngPlanOp *op, float *const *in, const SngPlanTensor *const *tin, float *out,
                   const SngPlanTensor *tout);

#endif
