/* internal.h - shared between sema.c and sema_data.c; never included outside compiler/pass. */
#ifndef SNG_PASS_INTERNAL_H
#define SNG_PASS_INTERNAL_H

#include "sng_pass.h"

int sng_sema_data(SngLayerCtx *c, const SngDecl *decl, SngPlanData *out);
int sng_sema_updater(SngLayerCtx *c, const SngDecl *decl, SngPlanUpdater *out);
int sng_sema_cluster(SngLayerCtx *c, const SngDecl *decl, SngPlanCluster *out);
int sng_sema_train(SngLayerCtx *c, const SngFile *f, const SngDecl *decl, SngPlanTrain *out, const SngDecl **net);
const char *sng_sema_string(SngLayerCtx *c, const SngExpr *e);   /* "literal" or env("NAME", "default") */
SngJob *sng_sema_job(SngLayerCtx *c);

#endif
