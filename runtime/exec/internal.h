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

#endif
