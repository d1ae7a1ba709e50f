/* internal.h - the built-in layers' build functions, for the table in layers.c; never
 * included outside stdlib/layers. */
#ifndef SNG_STD_LAYERS_INTERNAL_H
#define SNG_STD_LAYERS_INTERNAL_H

#include "sng_std.h"

/* layers.c: lr_mult and wd_mult (read from lr and wd) are >= 0, or an error at the argument */
int sng_std_check_mults(SngBuilder *b, const SngExpr *lr, const SngExpr *wd, double lr_mult, double wd_mult);
/* layers.c: an optional word argument, one of two (0: c0 or absent, 1: c1); else -1 reported
 * at e as "WHAT must be C0 or C1" */
int sng_std_choice(SngBuilder *b, const char *what, const SngExpr *e, const char *c0, const char *c1, int *out);
/* layers.c: the salt of a layer's keyed draws (dropout, sample), from its unique name */
double sng_std_salt(const char *name);

int sng_std_build_input(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* input.c */
int sng_std_build_dense(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* dense.c */
int sng_std_build_relu(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);      /* relu.c */
int sng_std_build_sxent(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* loss.c */
int sng_std_build_accuracy(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);  /* loss.c */

/* ---- issue 10: CNN ops (conv2d, pool, reshape, per-channel bias) ---- */
int sng_std_build_conv2d(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);    /* conv.c */
int sng_std_build_pool(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);      /* conv.c */
int sng_std_build_reshape(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);   /* conv.c */
int sng_std_build_flatten(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);   /* conv.c */

/* ---- issue 10: activations, tensor ops, losses and metrics ---- */
int sng_std_build_sigmoid(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);   /* act.c */
int sng_std_build_tanh(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);      /* act.c */
int sng_std_build_stanh(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* act.c */
int sng_std_build_leaky_relu(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout); /* act.c */
int sng_std_build_softplus(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);  /* act.c */
int sng_std_build_softmax(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);   /* act.c */
int sng_std_build_add(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);       /* tensor.c */
int sng_std_build_concat(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);    /* tensor.c */
int sng_std_build_slice(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* tensor.c */
int sng_std_build_split(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* tensor.c */
int sng_std_build_embed(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);     /* tensor.c */
int sng_std_build_one_hot(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);   /* tensor.c */
int sng_std_build_euclidean(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout); /* target_loss.c */
int sng_std_build_sigmoid_xent(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout); /* target_loss.c */

/* gru, lstm */
int sng_std_build_gru(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);       /* rnn.c */
int sng_std_build_lstm(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);      /* rnn.c */

/* ---- issue 10: normalisation and dropout (lrn, batchnorm, dropout) ---- */
int sng_std_build_dropout(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);   /* norm.c */
int sng_std_build_lrn(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);       /* norm.c */
int sng_std_build_batchnorm(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout); /* norm.c */

/* ---- issue 10: energy models (rbm, sample) ---- */
int sng_std_build_rbm(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);       /* rbm.c */
int sng_std_build_sample(SngBuilder *b, const SngExpr *call, SngIrNode **out, int nout);    /* rbm.c */

#endif
