/* sema_data.c - the settings declarations: data, cluster and train (the updater: sema_updater.c).
 *
 * Each is a list of `key = value` settings (or call arguments) checked against a table of
 * known keys, so a misspelt key is an error with a suggestion, never silently defaulted
 * (darknet's failure).  Data sources are probed at compile time: shapes are inferred from
 * the files' headers, so the user writes no input sizes, and a missing or malformed file is
 * reported at its place in the .sng file.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "internal.h"
#include "sng_data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* Finds key among keys[]; reports an unknown key with a suggestion. */
static int key_index(SngLayerCtx *c, const char *key, SngLoc loc, const char *const *keys, int n, const char *where) {
  for (int i = 0; i < n; i++)
    if (!strcmp(key, keys[i])) return i;
  sng_diag_error(sng_lctx_diag(c), loc, "unknown setting '%s' in %s", key, where);
  const char *s = sng_diag_suggest(key, keys, n);
  if (s) sng_diag_hint(sng_lctx_diag(c), "did you mean '%s'?", s);
  return -1;
}

/* Reads the idx headers and the labels (for the class count) through the loader's own probe,
 * so a file gets the same verdict and message here as when singa-exec reads it: the magic
 * found, "is a directory", "damaged gzip data", a truncated header, counts that disagree. */
static int probe_idx(SngLayerCtx *c, SngLoc loc, const char *images, const char *labels, int64_t dims[3],
                     int32_t *rank, int32_t *classes, int64_t *count) {
  SngDiag *d = sng_lctx_diag(c);
  SngIdxProbe pr;
  char err[1024];
  if (sng_data_probe_idx(images, labels, &pr, err, sizeof err)) {
    sng_diag_error(d, loc, "%s", err);
    if (strstr(err, ": cannot open: "))
      sng_diag_hint(d, "set SINGA_DATA or the data block's dir to the folder that holds the files");
    return -1;
  }
  if (pr.ndims != 2) {
    sng_diag_error(d, loc, "%s: idx images with %d dimensions per sample; the input layer takes images of "
                   "rows x cols (magic 0x00000803)", images, pr.ndims);
    return -1;
  }
  dims[0] = 1, dims[1] = pr.dims[0], dims[2] = pr.dims[1]; /* [channels, rows, cols] per image */
  *rank = 3;
  if (dims[1] * dims[2] > SNG_MAX_TENSOR_ELEMS) { /* both < 2^32: the product fits */
    sng_diag_error(d, loc, "%s: images of %lldx%lld are too large (at most %lld values a sample)", images,
                   (long long)dims[1], (long long)dims[2], (long long)SNG_MAX_TENSOR_ELEMS);
    return -1;
  }
  *classes = pr.classes;
  *count = pr.n;
  return 0;
}

/* A data file's path: relative names are relative to `dir`, and a relative `dir` (or a
 * relative name without one) to the folder of the .sng file, as #include is to its file.
 * The plan stores the result made absolute, so it runs from any working directory. */
static const char *join(SngLayerCtx *c, const char *dir, const char *file) {
  SngArena *a = sng_sema_job(c)->arena;
  const char *src = sng_sema_job(c)->source, *slash = strrchr(src, '/');
  const char *p = file;
  if (file[0] != '/' && dir) p = sng_arena_printf(a, "%s/%s", dir, file);
  if (p[0] != '/' && slash) p = sng_arena_printf(a, "%.*s/%s", (int)(slash - src), src, p);
  char *abs = realpath(p, NULL); /* NULL if missing: the probe then reports the path as written */
  if (!abs) return p;
  p = sng_arena_strdup(a, abs);
  free(abs);
  return p;
}

/* idx("images", "labels") */
static int data_source(SngLayerCtx *c, const SngExpr *e, const char *dir, const char **out) {
  static const char *const p[] = {"images", "labels"};
  const SngExpr *s[2];
  if (e->kind != SNG_EX_CALL || strcmp(e->str, "idx")) {
    sng_diag_error(sng_lctx_diag(c), e->loc, "expected a data source: idx(images, labels)");
    return -1;
  }
  if (sng_lctx_bind(c, e, p, 2, s)) return -1;
  for (int i = 0; i < 2; i++) {
    const char *v = sng_sema_string(c, s[i]);
    if (!v) return -1;
    out[i] = join(c, dir, v);
  }
  return 0;
}

int sng_sema_data(SngLayerCtx *c, const SngDecl *decl, SngPlanData *out) {
  static const char *const keys[] = {"dir", "train", "test", "batch", "shuffle", "scale", "standardize", "standardise"};
  enum { DIR, TRAIN, TEST, BATCH, SHUFFLE, SCALE, STD, STD2, NKEYS };
  const SngExpr *v[NKEYS] = {0};
  SngLoc at[NKEYS];
  SngDiag *d = sng_lctx_diag(c);
  for (const SngStmt *st = decl->body; st; st = st->next) {
    if (st->kind != SNG_ST_ASSIGN || st->names->next) {
      sng_diag_error(d, st->loc, "expected 'key = value' in data block '%s'", decl->name);
      continue;
    }
    int k = key_index(c, st->names->name, st->names->loc, keys, NKEYS, "a data block");
    if (k == STD2) k = STD;
    if (k < 0) continue;
    if (v[k]) {
      char what[96];
      snprintf(what, sizeof what, "setting '%s'", st->names->name);
      sng_lctx_again(c, st->names->loc, at[k], what);
      continue;
    }
    v[k] = st->value, at[k] = st->names->loc;
  }
  *out = (SngPlanData){.name = decl->name, .format = "idx", .batch = 64, .scale = 1.0};
  const char *dir = v[DIR] ? sng_sema_string(c, v[DIR]) : NULL;
  int64_t b;
  if (v[BATCH] && sng_lctx_int(c, v[BATCH], 1, &b) == 0) {
    if (b > SNG_MAX_GEMM_DIM) /* the default stays, so the net is still checked */
      sng_diag_error(d, v[BATCH]->loc, "batch = %lld: at most %lld (a matrix dimension for BLAS)", (long long)b,
                     (long long)SNG_MAX_GEMM_DIM);
    else
      out->batch = b;
  }
  if (v[SHUFFLE]) sng_lctx_bool(c, v[SHUFFLE], &out->shuffle);
  if (v[SCALE]) sng_lctx_number(c, v[SCALE], &out->scale);
  if (v[STD]) sng_lctx_bool(c, v[STD], &out->standardize);
  if (!v[TRAIN]) {
    sng_diag_error(d, decl->loc, "data block '%s' has no train source", decl->name);
    sng_diag_hint(d, "add: train = idx(\"train-images-idx3-ubyte.gz\", \"train-labels-idx1-ubyte.gz\")");
    return -1;
  }
  int64_t n;
  if (data_source(c, v[TRAIN], dir, out->train) ||
      probe_idx(c, v[TRAIN]->loc, out->train[0], out->train[1], out->sample_dims, &out->sample_rank, &out->classes, &n))
    return -1;
  int64_t sample = 1, all;
  for (int i = 0; i < out->sample_rank; i++) sample *= out->sample_dims[i]; /* <= SNG_MAX_TENSOR_ELEMS (probe_idx) */
  if (__builtin_mul_overflow(sample, out->batch, &all) || all > SNG_MAX_TENSOR_ELEMS) {
    SngLoc where = v[BATCH] ? v[BATCH]->loc : v[TRAIN]->loc;
    sng_diag_error(d, where, "a batch of %lld samples of %lld values is too large (at most %lld values a tensor)",
                   (long long)out->batch, (long long)sample, (long long)SNG_MAX_TENSOR_ELEMS);
    return -1;
  }
  if (v[TEST]) {
    int64_t tdims[3];
    int32_t tclasses, trank;
    if (data_source(c, v[TEST], dir, out->test) ||
        probe_idx(c, v[TEST]->loc, out->test[0], out->test[1], tdims, &trank, &tclasses, &n))
      return -1;
    if (tdims[1] != out->sample_dims[1] || tdims[2] != out->sample_dims[2]) {
      sng_diag_error(d, v[TEST]->loc, "test samples are %lldx%lld, train samples %lldx%lld", (long long)tdims[1],
                     (long long)tdims[2], (long long)out->sample_dims[1], (long long)out->sample_dims[2]);
      return -1;
    }
  }
  return 0;
}

/* processes = P: 1 to 256, and each process holds the same number of workers */
static int sng_sema_processes(SngLayerCtx *c, const SngExpr *e, int32_t workers, int32_t *processes) {
  SngDiag *d = sng_lctx_diag(c);
  int64_t v;
  if (sng_lctx_int(c, e, 1, &v)) return -1;
  if (v > 256 || v > workers || workers % v) {
    sng_diag_error(d, e->loc, "processes = %lld: each process holds the same number of workers, so it must divide "
                   "workers_per_group = %d", (long long)v, workers);
    return -1;
  }
  *processes = (int32_t)v;
  return 0;
}

/* cluster(worker_groups, workers_per_group, server_groups, servers_per_group, sync, sync_every,
 * processes):
 * sync = sandblaster (servers apart from the workers) or allreduce (a server beside each
 * worker, owning one slice), both synchronous and one group; downpour (several worker groups
 * on their own clocks, one server group) or hogwild (a server group per worker group, the
 * server groups exchanging every sync_every steps).  Without sync, the groups decide
 * (runtime.md "Frameworks"): one worker group is sandblaster, several are downpour with one
 * server group and hogwild with one per worker group.  sync = true / false say synchronous /
 * asynchronous without naming the framework.  processes = P runs a group in P MPI processes
 * (ranks), the workers dealt out evenly in order (docs/distributed.md). */
int sng_sema_cluster(SngLayerCtx *c, const SngDecl *decl, SngPlanCluster *out, int32_t *processes) {
  static const char *const p[] = {"worker_groups?", "workers_per_group?", "server_groups?", "servers_per_group?", "sync?",
                                  "sync_every?", "processes?"};
  SngDiag *d = sng_lctx_diag(c);
  *out = (SngPlanCluster){1, 1, 1, 1, SNG_FW_SANDBLASTER, 0};
  *processes = 1;
  if (!decl) return 0;
  const SngExpr *s[7];
  SngExpr call = {.kind = SNG_EX_CALL, .loc = decl->loc, .str = "cluster", .args = decl->args};
  if (sng_lctx_bind(c, &call, p, 7, s)) return -1;
  int32_t *f[4] = {&out->worker_groups, &out->workers_per_group, &out->server_groups, &out->servers_per_group};
  int err = 0;
  for (int i = 0; i < 4; i++) {
    int64_t v;
    if (!s[i]) continue;
    if (sng_lctx_int(c, s[i], 1, &v)) { err = -1; continue; }
    if (v > 256) {
      sng_diag_error(d, s[i]->loc, "%.*s = %lld: at most 256", (int)strcspn(p[i], "?"), p[i], (long long)v);
      err = -1;
      continue;
    }
    *f[i] = (int32_t)v;
  }
  if (err) return err;
  int wg = out->worker_groups, sg = out->server_groups;
  /* sync: 0 sandblaster, 1 allreduce, 2 true, 3 downpour, 4 hogwild, 5 false */
  static const char *const fw[] = {"sandblaster", "allreduce", "true", "downpour", "hogwild", "false"};
  int k = -1;
  if (s[4]) {
    if (s[4]->kind == SNG_EX_IDENT)
      for (int i = 0; i < 6; i++)
        if (!strcmp(s[4]->str, fw[i])) k = i;
    if (k < 0) {
      sng_diag_error(d, s[4]->loc, "sync must be sandblaster, allreduce, downpour, hogwild, true (synchronous) or "
                     "false (asynchronous)");
      return -1;
    }
  }
  const SngLoc *at = s[4] ? &s[4]->loc : &decl->loc;
  if (sg > 1 && sg != wg) { /* a server group per worker group, or one for all */
    sng_diag_error(d, s[2]->loc, "server_groups = %d: one server group (downpour) or one per worker group (hogwild, "
                   "worker_groups = %d)", sg, wg);
    return -1;
  }
  if (k < 0 || k == 2 || k == 5) { /* the groups decide */
    if (wg == 1 && k == 5) {
      sng_diag_error(d, *at, "sync = false: asynchronous frameworks need worker_groups > 1");
      return -1;
    }
    if (wg > 1 && k == 2) {
      sng_diag_error(d, *at, "sync = true: %d worker groups run on their own clocks (downpour or hogwild); "
                     "synchronous training is one group of several workers", wg);
      return -1;
    }
    k = wg == 1 ? 0 : sg == 1 ? 3 : 4;
  }
  if ((k == 0 || k == 1) && wg > 1) {
    sng_diag_error(d, *at, "sync = %s is one worker group, but worker_groups = %d (several groups are downpour or "
                   "hogwild)", fw[k], wg);
    return -1;
  }
  if ((k == 3 || k == 4) && wg == 1) {
    sng_diag_error(d, *at, "sync = %s needs several worker groups (worker_groups > 1)", fw[k]);
    if (s[0]) sng_diag_hint(d, "worker_groups = 1 is set at line %d", s[0]->loc.line);
    return -1;
  }
  if (k == 3 && sg != 1) {
    sng_diag_error(d, *at, "sync = downpour has one server group, but server_groups = %d", sg);
    return -1;
  }
  if (k == 4 && s[2] && sg != wg) {
    sng_diag_error(d, s[2]->loc, "sync = hogwild has a server group per worker group: server_groups must be %d", wg);
    return -1;
  }
  out->framework = k == 1 ? SNG_FW_ALLREDUCE : k == 3 ? SNG_FW_DOWNPOUR : k == 4 ? SNG_FW_HOGWILD : SNG_FW_SANDBLASTER;
  if (k == 4) out->server_groups = wg;
  if (out->framework == SNG_FW_HOGWILD) out->sync_every = 10;
  if (s[5]) {
    int64_t v;
    if (sng_lctx_int(c, s[5], 1, &v)) return -1;
    if (out->framework != SNG_FW_HOGWILD) {
      sng_diag_error(d, s[5]->loc, "sync_every: only hogwild server groups exchange parameters (this cluster is %s)",
                     fw[k]);
      return -1;
    }
    if (v > 1000000) {
      sng_diag_error(d, s[5]->loc, "sync_every = %lld: at most 1000000", (long long)v);
      return -1;
    }
    out->sync_every = (int32_t)v;
  }
  if (out->framework == SNG_FW_ALLREDUCE) { /* a server beside each worker */
    if (s[3] && out->servers_per_group != out->workers_per_group) {
      sng_diag_error(d, s[3]->loc, "allreduce puts one server beside each worker: servers_per_group must be %d",
                     out->workers_per_group);
      return -1;
    }
    out->servers_per_group = out->workers_per_group;
  }
  if (s[6] && wg > 1) {
    sng_diag_error(d, s[6]->loc, "processes: several worker groups run in one process so far (the MPI runtime "
                   "spreads one group over ranks)");
    return -1;
  }
  if (s[6]) return sng_sema_processes(c, s[6], out->workers_per_group, processes);
  return 0;
}

/* train NET with bp, sgd { steps = N; display_every = N; seed = N; test every N for M|all } */
int sng_sema_train(SngLayerCtx *c, const SngFile *f, const SngDecl *decl, SngPlanTrain *out, const SngDecl **net) {
  static const char *const keys[] = {"steps", "display_every", "seed"};
  static const char *const heads[] = {"test", "checkpoint"};
  SngDiag *d = sng_lctx_diag(c);
  *out = (SngPlanTrain){.net = decl->name, .alg = "bp", .steps = 1000, .display_every = 100, .seed = 1};
  *net = NULL;
  int nnets = 0;
  for (const SngDecl *x = f->decls; x; x = x->next)
    if (x->kind == SNG_DECL_NET) {
      if (!*net && !strcmp(x->name, decl->name)) *net = x;
      nnets++;
    }
  if (!*net) {
    const char **nets = sng_arena_alloc(sng_sema_job(c)->arena, sizeof *nets * (size_t)(nnets + 1));
    nnets = 0;
    for (const SngDecl *x = f->decls; x; x = x->next)
      if (x->kind == SNG_DECL_NET) nets[nnets++] = x->name;
    sng_diag_error(d, decl->name_loc, "no net named '%s'", decl->name);
    const char *s = sng_diag_suggest(decl->name, nets, nnets);
    if (s) sng_diag_hint(d, "did you mean '%s'?", s);
  }
  /* with ALG, UPDATER */
  const SngArg *a = decl->with;
  SngJob *job = sng_sema_job(c);
  job->alg_loc = a ? a->loc : decl->loc;
  const char *name = a && (a->value->kind == SNG_EX_IDENT || a->value->kind == SNG_EX_CALL) ? a->value->str : "";
  if (!strcmp(name, "cd")) { /* cd or cd(k = K): K Gibbs steps, 1 by default */
    job->cd_k = 1;
    for (const SngArg *k = a->value->kind == SNG_EX_CALL ? a->value->args : NULL; k; k = k->next) {
      int64_t v;
      if (k->name && !strcmp(k->name, "k") && k == a->value->args && !k->next) {
        if (!sng_lctx_int(c, k->value, 1, &v)) {
          if (v > 1000) sng_diag_error(d, k->value->loc, "cd k = %lld: at most 1000 Gibbs steps", (long long)v);
          else job->cd_k = (int32_t)v;
        }
      } else {
        sng_diag_error(d, k->loc, "cd takes one argument, k = the Gibbs steps a training step runs (cd(k = 1))");
      }
    }
  } else if (!a || a->value->kind != SNG_EX_IDENT || strcmp(a->value->str, "bp")) {
    static const char *const algs[] = {"bp", "bptt", "cd"};
    SngLoc loc = a ? a->loc : decl->loc;
    if (!strcmp(name, "bptt"))
      sng_diag_error(d, loc, "algorithm '%s' is not implemented yet (bp and cd are)", name);
    else {
      sng_diag_error(d, loc, "expected the training algorithm: bp, bptt or cd");
      const char *s = sng_diag_suggest(name, algs, 3);
      if (s && *name) sng_diag_hint(d, "did you mean '%s'?", s);
    }
  }
  const char *upd = "sgd"; /* the file's updater (sgd without one) */
  for (const SngDecl *x = f->decls; x; x = x->next)
    if (x->kind == SNG_DECL_UPDATER) {
      upd = x->name;
      break;
    }
  if (a && a->next && (a->next->value->kind != SNG_EX_IDENT || strcmp(a->next->value->str, upd)))
    sng_diag_error(d, a->next->loc, "the updater named here must be the file's updater (%s)", upd);
  for (const SngArg *w = decl->with; w; w = w->next) /* nothing after 'with' goes unread */
    if (w->name)
      sng_diag_error(d, w->loc, "'with' takes the algorithm and the updater by position (with bp, sgd), not '%s ='",
                     w->name);
    else if (a && a->next && w == a->next->next)
      sng_diag_error(d, w->loc, "'with' takes an algorithm and an updater; this is a third argument");
  const SngName *seen[3] = {0};
  const SngStmt *test = NULL;
  for (const SngStmt *st = decl->body; st; st = st->next) {
    if (st->kind == SNG_ST_ASSIGN && !st->names->next) {
      int64_t v;
      int k = key_index(c, st->names->name, st->names->loc, keys, 3, "a train stage");
      if (k >= 0 && seen[k]) {
        char what[96];
        snprintf(what, sizeof what, "setting '%s'", keys[k]);
        sng_lctx_again(c, st->names->loc, seen[k]->loc, what);
        continue;
      }
      if (k >= 0) seen[k] = st->names;
      if (k < 0 || sng_lctx_int(c, st->value, k == 2 ? 0 : 1, &v)) continue;
      int64_t samples, batch = sng_sema_job(c)->data.batch ? sng_sema_job(c)->data.batch : 1;
      if (k == 0 && (__builtin_mul_overflow(v, batch, &samples) || samples > SNG_MAX_SAMPLES)) {
        sng_diag_error(d, st->value->loc, "steps = %lld of %lld samples each is more than %lld samples", (long long)v,
                       (long long)batch, (long long)SNG_MAX_SAMPLES);
        continue;
      }
      if (k == 0) out->steps = v;
      else if (k == 1) out->display_every = v;
      else out->seed = (uint64_t)v;
    } else if (st->kind == SNG_ST_CLAUSES && !strcmp(st->head, "test")) {
      if (test) {
        sng_lctx_again(c, st->loc, test->loc, "test");
        continue;
      }
      test = st;
      const SngClause *every = NULL, *for_ = NULL;
      for (const SngClause *cl = st->clauses; cl; cl = cl->next) {
        const SngClause **once = !strcmp(cl->word, "every") ? &every : !strcmp(cl->word, "for") ? &for_ : NULL;
        if (once && *once) {
          char what[96];
          snprintf(what, sizeof what, "'%s' of test", cl->word);
          sng_lctx_again(c, cl->loc, (*once)->loc, what);
          continue;
        }
        if (once) *once = cl;
        if (!strcmp(cl->word, "every")) sng_lctx_int(c, cl->value, 1, &out->test_every);
        else if (!strcmp(cl->word, "for")) {
          if (cl->value->kind == SNG_EX_IDENT && !strcmp(cl->value->str, "all")) out->test_steps = 0;
          else sng_lctx_int(c, cl->value, 1, &out->test_steps);
        } else sng_diag_error(d, cl->loc, "test takes 'every N' and 'for M' (batches, or all)");
      }
      if (!sng_sema_job(c)->data.test[0] && sng_sema_job(c)->data.train[0])
        sng_diag_error(d, st->loc, "test needs a test source in the data block");
    } else if (st->kind == SNG_ST_CLAUSES && !strcmp(st->head, "checkpoint")) {
      sng_diag_error(d, st->loc, "checkpoints are not implemented yet");
    } else {
      const char *h = st->head ? st->head : st->names ? st->names->name : "?";
      sng_diag_error(d, st->loc, "unexpected '%s' in a train stage", h);
      const char *s = sng_diag_suggest(h, heads, 2);
      if (!s) s = sng_diag_suggest(h, keys, 3);
      if (s) sng_diag_hint(d, "did you mean '%s'?", s);
    }
  }
  return 0;
}
