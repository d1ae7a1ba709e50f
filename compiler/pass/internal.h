/* internal.h - shared between sema.c and sema_data.c; never included outside compiler/pass. */
#ifndef SNG_PASS_INTERNAL_H
#define SNG_PASS_INTERNAL_H

#include "sng_pass.h"

/* ---- sema's own context, shared by sema.c and sema_data.c ---- */
/* Layers never see it: they get a SngBuilder (stdlib/sng_std.h) whose hooks sema fills. */
typedef struct SngLayerCtx SngLayerCtx;
/* Binds a call's arguments to parameters described as "name" (required, positional or
 * named) or "name?" (optional).  Reports unknown names (with a suggestion), duplicates,
 * missing and surplus arguments.  slots[i] is NULL for an absent optional. */
int sng_lctx_bind(SngLayerCtx *c, const SngExpr *call, const char *const *params, int nparams,
                  const SngExpr **slots);
/* A constant number, finite as a float32 (the runtime's type), or -1 (reported; *out unchanged). */
int sng_lctx_number(SngLayerCtx *c, const SngExpr *e, double *out);
int sng_lctx_int(SngLayerCtx *c, const SngExpr *e, int64_t min, int64_t *out);
int sng_lctx_bool(SngLayerCtx *c, const SngExpr *e, int *out);
SngDiag *sng_lctx_diag(SngLayerCtx *c);
/* Reports "<what> defined again here; first defined at file:line:col" at again. */
void sng_lctx_again(SngLayerCtx *c, SngLoc again, SngLoc first, const char *what);


int sng_sema_data(SngLayerCtx *c, const SngDecl *decl, SngPlanData *out);
int sng_sema_updater(SngLayerCtx *c, const SngDecl *decl, SngPlanUpdater *out);
/* After the net is built: the learning rate and weight decay of every parameter, at every
 * step of the run, are finite float32s (reported at gamma or at the layer). */
void sng_sema_rates(SngLayerCtx *c, const SngDecl *upd, const SngJob *job);
int sng_sema_cluster(SngLayerCtx *c, const SngDecl *decl, SngPlanCluster *out, int32_t *processes);
int sng_sema_train(SngLayerCtx *c, const SngFile *f, const SngDecl *decl, SngPlanTrain *out, const SngDecl **net);
const char *sng_sema_string(SngLayerCtx *c, const SngExpr *e);   /* "literal" or env("NAME", "default") */
SngJob *sng_sema_job(SngLayerCtx *c);

#endif
