/* sng_cg.h - LLVM code generation for fused kernels.
 *
 * Example usage:
 *   void *bc; size_t len; char *ir; char err[256];
 *   if (sng_cg_kernel(k, "k3", &bc, &len, &ir, err, sizeof err) < 0) {
 *     fprintf(stderr, "%s\n", err);               // "kernel k3: ..."
 *     return -1;
 *   }
 *   fputs(ir, stdout);                            // textual IR, for dumps
 *   ... store bc/len in the plan; runtime/jit compiles it for the host CPU at load ...
 *   free(bc); free(ir);
 *
 * Every kernel is one standalone LLVM module defining one external function, the kernel ABI:
 *   void symbol(float *const *bufs, const float *scalars, int64_t rows, int64_t cols)
 * bufs follows k->bufs (inputs first, then outputs); scalars is indexed by a SCALAR node's
 * attr.arg.slot; rows/cols are the iteration space, passed at run time (the code never bakes
 * them in, so one kernel serves any batch size).  The same ABI is SngKernelFn in sng_jit.h.
 *
 * ELTWISE kernels (k->rowwise false) compute each member per element (i, j) and store the
 * members listed in k->bufs plus the ASSIGN effects.  Sources are read by their element
 * count against the space: rows*cols elements at i*cols+j, cols elements (a row vector
 * such as a bias) at j, one element at 0.  All loads of an element come before its stores,
 * so the member values see the buffers as they were when the kernel started.
 * ROWWISE kernels (k->rowwise true) are the softmax-cross-entropy family; see llvm.c.
 */
#ifndef SNG_CG_H
#define SNG_CG_H

#include <stddef.h>
#include "sng_ir.h"

/* Builds kernel k as a standalone LLVM module defining `symbol`, verifies it, and returns
 * its bitcode (malloc'd, caller frees) and, if ir_text != NULL, its textual IR (malloc'd).
 * Returns 0, or -1 with a message in err ("kernel k3: ...").  No optimisation happens here:
 * the JIT optimises for the host CPU at load.  Thread-safe (a fresh LLVMContext per call). */
int sng_cg_kernel(const SngIrKernel *k, const char *symbol, void **bitcode, size_t *len,
                  char **ir_text, char *err, size_t errlen);

#endif
