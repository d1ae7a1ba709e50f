/* jit.c - fused kernels compiled for the host CPU with LLVM's ORC LLJIT.
 *
 * The plan carries target-neutral bitcode (compiler/cg); only here, on the machine that
 * runs it, is it optimised and compiled, for the exact CPU (LLVMGetHostCPUName plus its
 * feature string, so AVX-512 where present).  The facts this relies on were measured on
 * LLVM 19 (docs: toolchain-notes.md section 1):
 *   - the C API's PassBuilderOptions leave SLP vectorisation off, so every vectoriser knob
 *     is switched on explicitly; "default<O2>" vectorises like O3 and O1 does not;
 *   - libm calls (expf, logf) need the process-symbol generator on LLVM < 19; it is harmless
 *     on 19, so it is always added;
 *   - with -vector-library=LIBMVEC-X86 and glibc's libmvec loaded, a vectorised exp becomes
 *     _ZGVdN8v_expf (~4x faster than scalar expf in a loop, max rel. error 1.8e-7).
 * Errors never reach LLVM's defaults, which print to stderr or call exit(1): each kernel's
 * context has a diagnostic handler and the session has an error reporter, both writing to
 * the SngJit, so a corrupt module in a plan becomes a message.
 */
#include "sng_jit.h"
#include "sng_core.h"

#include <dlfcn.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct SngJit {
  LLVMOrcLLJITRef jit;
  LLVMTargetMachineRef tm;     /* host machine for the pass pipeline and asm dumps; the JIT
                                  owns a copy of its own */
  char *triple, *cpu, *features, *layout;   /* LLVM-allocated strings */
  int count;                   /* kernels compiled */
  struct { char *symbol; SngKernelFn fn; } *done;   /* compiled so far: a symbol is added once */
  int ndone, cap;
  char diag[512];              /* first LLVM error diagnostic of the current operation */
};

/* ---- process-wide setup ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;

/* Native target registration and command-line options are process-global in LLVM, so they
 * happen once.  libmvec is opened first and the vector library is named only if that
 * worked: naming it without the library would leave the vector calls unresolved at link.
 * The handle is never closed, since compiled kernels may call into it until exit. */
static void init_llvm(void) {
  if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter() ||
      LLVMInitializeNativeAsmParser())
    return;
#if defined(__x86_64__) && defined(__GLIBC__)
  if (dlopen("libmvec.so.1", RTLD_NOW | RTLD_GLOBAL)) {
    const char *argv[] = {"singa", "-vector-library=LIBMVEC-X86"};
    LLVMParseCommandLineOptions(2, argv, NULL);
  }
#endif
  init_ok = true;
}

/* ---- messages ---- */

__attribute__((format(printf, 3, 4))) static int seterr(char *err, size_t errlen, const char *fmt,
                                                       ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Consumes e and reports "<what>: <LLVM's message>". */
static int seterr_llvm(char *err, size_t errlen, const char *what, LLVMErrorRef e) {
  char *m = LLVMGetErrorMessage(e);
  seterr(err, errlen, "%s: %s", what, m);
  LLVMDisposeErrorMessage(m);
  return -1;
}

static void on_diag(LLVMDiagnosticInfoRef di, void *ctx) {
  SngJit *j = ctx;
  if (LLVMGetDiagInfoSeverity(di) != LLVMDSError || j->diag[0]) return;
  char *d = LLVMGetDiagInfoDescription(di);
  snprintf(j->diag, sizeof j->diag, "%s", d);
  LLVMDisposeMessage(d);
}

/* Session errors (failed materialisation) are also returned by the lookup that triggered
 * them; this only keeps LLVM from printing them to stderr as well. */
static void on_session_error(void *ctx, LLVMErrorRef e) {
  SngJit *j = ctx;
  char *m = LLVMGetErrorMessage(e);
  if (!j->diag[0]) snprintf(j->diag, sizeof j->diag, "%s", m);
  LLVMDisposeErrorMessage(m);
}

/* ---- the JIT ---- */

static LLVMTargetMachineRef host_tm(const SngJit *j, LLVMTargetRef t) {
  return LLVMCreateTargetMachine(t, j->triple, j->cpu, j->features, LLVMCodeGenLevelAggressive,
                                 LLVMRelocDefault, LLVMCodeModelJITDefault);
}

SngJit *sng_jit_new(char *err, size_t errlen) {
  pthread_once(&init_once, init_llvm);
  if (!init_ok) {
    seterr(err, errlen, "jit: cannot initialise LLVM's native target");
    return NULL;
  }
  SngJit *j = sng_calloc(1, sizeof *j);
  j->triple = LLVMGetDefaultTargetTriple();
  j->cpu = LLVMGetHostCPUName();
  j->features = LLVMGetHostCPUFeatures();
  LLVMTargetRef t;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(j->triple, &t, &msg)) {
    seterr(err, errlen, "jit: no LLVM target for %s: %s", j->triple, msg ? msg : "?");
    LLVMDisposeMessage(msg);
    goto fail;
  }
  j->tm = host_tm(j, t);
  LLVMTargetMachineRef jit_tm = host_tm(j, t);
  if (!j->tm || !jit_tm) {
    if (jit_tm) LLVMDisposeTargetMachine(jit_tm);
    seterr(err, errlen, "jit: cannot create a target machine for %s (%s)", j->triple, j->cpu);
    goto fail;
  }
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(j->tm);
  j->layout = LLVMCopyStringRepOfTargetData(td);
  LLVMDisposeTargetData(td);

  LLVMOrcLLJITBuilderRef jb = LLVMOrcCreateLLJITBuilder();   /* both take ownership */
  LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(
      jb, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jit_tm));
  LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->jit, jb);
  if (e) {
    j->jit = NULL;
    seterr_llvm(err, errlen, "jit: cannot create LLJIT", e);
    goto fail;
  }
  LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(j->jit),
                                          on_session_error, j);
  LLVMOrcDefinitionGeneratorRef gen;
  e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &gen, LLVMOrcLLJITGetGlobalPrefix(j->jit), NULL, NULL);
  if (e) {
    seterr_llvm(err, errlen, "jit: cannot resolve process symbols", e);
    goto fail;
  }
  LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->jit), gen);
  return j;
fail:
  sng_jit_free(j);
  return NULL;
}

/* Parses bitcode into ctx, checks it, retargets it to the host and runs the O2 pipeline.
 * symbol (if not NULL) must be defined with the kernel ABI's arity.  what prefixes errors. */
static int load_module(SngJit *j, LLVMContextRef ctx, const void *bc, size_t len,
                       const char *symbol, const char *what, LLVMModuleRef *out, char *err,
                       size_t errlen) {
  *out = NULL;
  j->diag[0] = 0;
  LLVMContextSetDiagnosticHandler(ctx, on_diag, j);
  LLVMMemoryBufferRef mb = LLVMCreateMemoryBufferWithMemoryRange(bc, len, what, 0);
  LLVMModuleRef m = NULL;
  LLVMBool bad = LLVMParseBitcodeInContext2(ctx, mb, &m);
  LLVMDisposeMemoryBuffer(mb);   /* a fully parsed module keeps no reference to it */
  if (bad || !m)
    return seterr(err, errlen, "%s: invalid bitcode: %s", what, j->diag[0] ? j->diag : "unreadable");
  char *msg = NULL;
  if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
    seterr(err, errlen, "%s: invalid module: %s", what, msg ? msg : "?");
    goto fail;
  }
  LLVMDisposeMessage(msg);
  msg = NULL;
  if (symbol) {
    LLVMValueRef fn = LLVMGetNamedFunction(m, symbol);
    if (!fn || LLVMIsDeclaration(fn)) {
      seterr(err, errlen, "%s: symbol not found in its module", what);
      goto fail;
    }
    if (LLVMCountParams(fn) != 4) {
      seterr(err, errlen, "%s: %s does not have the kernel signature", what, symbol);
      goto fail;
    }
  }
  LLVMSetTarget(m, j->triple);
  LLVMSetDataLayout(m, j->layout);
  LLVMPassBuilderOptionsRef o = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(o, 1);
  LLVMPassBuilderOptionsSetSLPVectorization(o, 1);
  LLVMPassBuilderOptionsSetLoopUnrolling(o, 1);
  LLVMPassBuilderOptionsSetLoopInterleaving(o, 1);
  LLVMErrorRef e = LLVMRunPasses(m, "default<O2>", j->tm, o);
  LLVMDisposePassBuilderOptions(o);
  if (e) {
    char w[160];
    snprintf(w, sizeof w, "%s: optimisation failed", what);
    seterr_llvm(err, errlen, w, e);
    goto fail;
  }
  *out = m;
  return 0;
fail:
  LLVMDisposeMessage(msg);
  LLVMDisposeModule(m);
  return -1;
}

int sng_jit_add(SngJit *j, const void *bitcode, size_t len, const char *symbol, SngKernelFn *out,
                char *err, size_t errlen) {
  char what[160];
  snprintf(what, sizeof what, "kernel %s", symbol);
  *out = NULL;
  for (int i = 0; i < j->ndone; i++) /* every worker of a plan binds the same kernels: compile once */
    if (!strcmp(j->done[i].symbol, symbol)) {
      *out = j->done[i].fn;
      return 0;
    }
  LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
  LLVMModuleRef m;
  int rc = load_module(j, LLVMOrcThreadSafeContextGetContext(tsc), bitcode, len, symbol, what, &m,
                       err, errlen);
  if (rc < 0) {
    LLVMOrcDisposeThreadSafeContext(tsc);
    return -1;
  }
  /* The module keeps the context alive; the JIT owns both from here on. */
  LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
  LLVMOrcDisposeThreadSafeContext(tsc);
  LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit), tsm);
  if (e) return seterr_llvm(err, errlen, what, e);
  LLVMOrcExecutorAddress addr = 0;
  e = LLVMOrcLLJITLookup(j->jit, &addr, symbol);   /* code generation happens here */
  if (e) return seterr_llvm(err, errlen, what, e);
  if (!addr) return seterr(err, errlen, "%s: symbol not found", what);
  *out = (SngKernelFn)(uintptr_t)addr;
  j->count++;
  if (j->ndone == j->cap) {
    j->cap = j->cap ? 2 * j->cap : 16;
    j->done = sng_realloc(j->done, sizeof *j->done * (size_t)j->cap);
  }
  j->done[j->ndone].symbol = sng_strdup(symbol);
  j->done[j->ndone++].fn = *out;
  return 0;
}

int sng_jit_dump_asm(SngJit *j, const void *bitcode, size_t len, const char *path, char *err,
                     size_t errlen) {
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef m;
  int rc = load_module(j, ctx, bitcode, len, NULL, "asm dump", &m, err, errlen);
  char *msg = NULL;
  if (rc == 0 && LLVMTargetMachineEmitToFile(j->tm, m, path, LLVMAssemblyFile, &msg)) {
    rc = seterr(err, errlen, "asm dump: %s: %s", path, msg ? msg : "?");
  }
  LLVMDisposeMessage(msg);
  if (m) LLVMDisposeModule(m);
  LLVMContextDispose(ctx);
  return rc;
}

const char *sng_jit_cpu(const SngJit *j) { return j->cpu; }
int sng_jit_count(const SngJit *j) { return j->count; }

void sng_jit_free(SngJit *j) {
  if (!j) return;
  if (j->jit) {
    LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
    if (e) LLVMConsumeError(e);
  }
  if (j->tm) LLVMDisposeTargetMachine(j->tm);
  LLVMDisposeMessage(j->triple);
  LLVMDisposeMessage(j->cpu);
  LLVMDisposeMessage(j->features);
  LLVMDisposeMessage(j->layout);
  for (int i = 0; i < j->ndone; i++) free(j->done[i].symbol);
  free(j->done);
  free(j);
}
