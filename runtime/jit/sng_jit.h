/* sng_jit.h - compiles fused-kernel bitcode for the host CPU (LLVM ORC LLJIT).
 *
 * Example usage:
 *   char err[512];
 *   SngJit *j = sng_jit_new(err, sizeof err);       // once per plan
 *   if (!j) { fprintf(stderr, "%s\n", err); ... }
 *   SngKernelFn k3;
 *   if (sng_jit_add(j, bc, bc_len, "k3", &k3, err, sizeof err) < 0) { ... "kernel k3: ..." }
 *   k3(bufs, scalars, rows, cols);                   // valid until sng_jit_free
 *   printf("%d kernels for %s\n", sng_jit_count(j), sng_jit_cpu(j));
 *   sng_jit_free(j);
 *
 * Each kernel is optimised with "default<O2>" (loop and SLP vectorisation on) for the exact
 * host CPU, so the same plan runs AVX-512 code here and SSE code elsewhere.  Expect ~10 ms
 * per kernel.  A SngJit is not thread-safe: add kernels from one thread (calling compiled
 * kernels from any thread is fine).  Symbols must be unique within one SngJit.
 */
#ifndef SNG_JIT_H
#define SNG_JIT_H

#include <stddef.h>
#include <stdint.h>

/* The kernel ABI produced by compiler/cg (sng_cg.h): buffers in the kernel's bufs order,
 * the runtime scalar slots, and the iteration space. */
typedef void (*SngKernelFn)(float *const *bufs, const float *scalars, int64_t rows, int64_t cols);

typedef struct SngJit SngJit;

/* A JIT for the host CPU; NULL with a message in err on failure. */
SngJit *sng_jit_new(char *err, size_t errlen);
/* Parses the bitcode, optimises it for the host, compiles it and looks up symbol.  Returns
 * 0 with *out set, or -1 with a message ("kernel k3: invalid bitcode: ...", "kernel k3:
 * symbol not found ..."); a bad module never crashes or exits the process. */
int sng_jit_add(SngJit *j, const void *bitcode, size_t len, const char *symbol, SngKernelFn *out,
                char *err, size_t errlen);
/* Writes the host assembly of a kernel (the same optimised module sng_jit_add compiles) to
 * path, for inspection.  Does not add the kernel.  Returns 0 or -1 with a message. */
int sng_jit_dump_asm(SngJit *j, const void *bitcode, size_t len, const char *path, char *err,
                     size_t errlen);
const char *sng_jit_cpu(const SngJit *j);   /* host CPU name, e.g. "znver5" */
int sng_jit_count(const SngJit *j);         /* kernels compiled so far */
/* Frees the JIT and all its compiled code: kernel pointers die with it. NULL is a no-op. */
void sng_jit_free(SngJit *j);

#endif
