/* groups.h - private to runtime/exec: several worker groups of one plan, each an SngGroup
 * (group.c) on its own clock, and how they meet the servers (groups.c). */
#ifndef SNG_EXEC_GROUPS_H
#define SNG_EXEC_GROUPS_H

#include "group.h"
#include "sng_data.h"

#include <stdatomic.h>

typedef struct SngShared SngShared;

typedef struct SngGroups {
  const SngPlan *p;
  int n;                        /* worker groups; group 0 runs in the driver's thread */
  SngGroup **g;
  SngShared *sh;                /* downpour: the one server group's values and state */
  /* hogwild: the exchanged copy, and each group's values at its last exchange */
  float **center, ***last;
  pthread_mutex_t center_mu;
  int64_t exchanges;            /* under center_mu */
  /* the other groups' threads */
  pthread_t *th;
  struct GroupArg *args;
  int started;
  const SngDataset *train;
  int64_t steps;
  _Atomic int stop, failed;
  _Atomic int64_t *done;        /* steps completed, per group */
  char err[256];                /* the first failure of a group's thread (set before failed) */
} SngGroups;

/* The plan's worker groups (one, for sandblaster and allreduce: then just sng_group_new). */
SngGroups *sng_groups_new(const SngPlan *p, char *err, size_t errlen);
/* Starts groups 1.. training `steps` steps each on their own batches of train. */
void sng_groups_start(SngGroups *gs, const SngDataset *train, int64_t steps);
/* Group k finished step `step` (its values are quiet): hogwild exchanges every sync_every. */
void sng_groups_after_step(SngGroups *gs, int k, int64_t step);
/* Stops (stop != 0) or waits for groups 1.., then puts the servers' parameters in group 0
 * for the final test: downpour's shared values, hogwild's exchanged copy after a last exchange
 * of every group. */
void sng_groups_finish(SngGroups *gs, int stop);
/* A group's thread failed: 1 and its message in err. */
int sng_groups_failed(SngGroups *gs, char *err, size_t errlen);
/* Batches of group k: a shuffle of its own (seed + k), or without shuffle its own part of the data. */
void sng_groups_batcher(const SngGroups *gs, int k, SngBatcher *b, const SngDataset *train);
int64_t sng_groups_bytes(const SngGroups *gs);
void sng_groups_set_threads(SngGroups *gs, int threads);
void sng_groups_free(SngGroups *gs);

#endif
