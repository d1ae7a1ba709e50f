/* comm.c - the in-process transport: mailboxes (growable rings under a mutex and a
 * condition variable) and bridge channels (one buffer each, full or empty); with ranks set,
 * the units and bridge ends of other processes are reached through mpi.c. */
#include "sng_comm.h"
#include "sng_core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct Box {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  SngMsg *ring;
  int cap, head, len;
} Box;

typedef struct Chan {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  void *buf;
  int64_t bytes;
  int full;
  int from, to;             /* ranks of the sending and receiving workers (with ranks set) */
  void *req, *mpibuf;       /* the MPI send in flight (a remote receiver) */
} Chan;

struct SngComm {
  int nunits, nchannels;
  Box *box;
  Chan *chan;
  _Atomic int64_t moved;
  int ranked, me;           /* sng_comm_set_ranks: units on several ranks; this one */
  int *unit_rank;
  pthread_t receiver;
  void (*on_stub)(void *, SngMsg);
  void *ctx;
};

/* the receiving thread of a rank: every message for this rank's units and stub */
static void *receiver_main(void *arg) {
  SngComm *c = arg;
  int unit;
  SngMsg m;
  while (sng_mpi_recv_msg(&unit, &m)) {
    if (unit < 0) c->on_stub(c->ctx, m);
    else sng_comm_send(c, unit, m);
  }
  return NULL;
}

void sng_comm_set_ranks(SngComm *c, int me, const int *unit_rank, const int *chan_from, const int *chan_to,
                        void (*on_stub)(void *ctx, SngMsg m), void *ctx) {
  c->ranked = 1, c->me = me, c->on_stub = on_stub, c->ctx = ctx;
  c->unit_rank = sng_calloc((size_t)c->nunits + 1, sizeof *c->unit_rank);
  memcpy(c->unit_rank, unit_rank, (size_t)c->nunits * sizeof *unit_rank);
  for (int i = 0; i < c->nchannels; i++) {
    c->chan[i].from = chan_from[i], c->chan[i].to = chan_to[i];
    if (chan_from[i] == me && chan_to[i] != me) c->chan[i].req = sng_mpi_request_new();
  }
  pthread_create(&c->receiver, NULL, receiver_main, c);
}

void sng_comm_send_stub(SngComm *c, int rank, SngMsg m) {
  SNG_ASSERT(c->ranked);
  sng_mpi_send_msg(rank, -1, m);
}

SngComm *sng_comm_new(int nunits, int nchannels, const int64_t *channel_bytes) {
  SngComm *c = sng_calloc(1, sizeof *c);
  c->nunits = nunits, c->nchannels = nchannels;
  c->box = sng_calloc((size_t)nunits + 1, sizeof *c->box);
  c->chan = sng_calloc((size_t)nchannels + 1, sizeof *c->chan);
  for (int i = 0; i < nunits; i++) {
    pthread_mutex_init(&c->box[i].mu, NULL);
    pthread_cond_init(&c->box[i].cv, NULL);
  }
  for (int i = 0; i < nchannels; i++) {
    pthread_mutex_init(&c->chan[i].mu, NULL);
    pthread_cond_init(&c->chan[i].cv, NULL);
    c->chan[i].bytes = channel_bytes[i];
    c->chan[i].buf = sng_alloc_aligned((size_t)channel_bytes[i] + 64);
  }
  atomic_init(&c->moved, 0);
  return c;
}

void sng_comm_free(SngComm *c) {
  if (!c) return;
  if (c->ranked) {
    sng_mpi_stop_receiver(c->me);
    pthread_join(c->receiver, NULL);
    for (int i = 0; i < c->nchannels; i++)
      if (c->chan[i].req) sng_mpi_bridge_wait(c->chan[i].req), free(c->chan[i].req), free(c->chan[i].mpibuf);
    free(c->unit_rank);
  }
  for (int i = 0; i < c->nunits; i++) {
    pthread_mutex_destroy(&c->box[i].mu);
    pthread_cond_destroy(&c->box[i].cv);
    free(c->box[i].ring);
  }
  for (int i = 0; i < c->nchannels; i++) {
    pthread_mutex_destroy(&c->chan[i].mu);
    pthread_cond_destroy(&c->chan[i].cv);
    free(c->chan[i].buf);
  }
  free(c->box);
  free(c->chan);
  free(c);
}

void sng_comm_send(SngComm *c, int unit, SngMsg m) {
  if (c->ranked && c->unit_rank[unit] != c->me) {
    sng_mpi_send_msg(c->unit_rank[unit], unit, m);
    return;
  }
  Box *b = &c->box[unit];
  pthread_mutex_lock(&b->mu);
  if (b->len == b->cap) { /* grow, keeping the order */
    int cap = b->cap ? 2 * b->cap : 64;
    SngMsg *r = sng_alloc(sizeof *r * (size_t)cap);
    for (int i = 0; i < b->len; i++) r[i] = b->ring[(b->head + i) % b->cap];
    free(b->ring);
    b->ring = r, b->cap = cap, b->head = 0;
  }
  b->ring[(b->head + b->len++) % b->cap] = m;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

SngMsg sng_comm_recv(SngComm *c, int unit) {
  Box *b = &c->box[unit];
  pthread_mutex_lock(&b->mu);
  while (!b->len) pthread_cond_wait(&b->cv, &b->mu);
  SngMsg m = b->ring[b->head];
  b->head = (b->head + 1) % b->cap, b->len--;
  pthread_mutex_unlock(&b->mu);
  return m;
}

void sng_comm_bridge_send(SngComm *c, int channel, const void *data, int64_t bytes) {
  Chan *ch = &c->chan[channel];
  SNG_ASSERT(bytes == ch->bytes);
  if (ch->req) { /* the receiver is another process */
    sng_mpi_bridge_send(ch->to, channel, data, bytes, &ch->mpibuf, ch->req);
    atomic_fetch_add(&c->moved, bytes);
    return;
  }
  pthread_mutex_lock(&ch->mu);
  while (ch->full) pthread_cond_wait(&ch->cv, &ch->mu);
  memcpy(ch->buf, data, (size_t)bytes);
  ch->full = 1;
  pthread_cond_broadcast(&ch->cv);
  pthread_mutex_unlock(&ch->mu);
  atomic_fetch_add(&c->moved, bytes);
}

void sng_comm_bridge_recv(SngComm *c, int channel, void *data, int64_t bytes) {
  Chan *ch = &c->chan[channel];
  SNG_ASSERT(bytes == ch->bytes);
  if (c->ranked && ch->from != c->me) { /* the sender is another process */
    sng_mpi_bridge_recv(ch->from, channel, data, bytes);
    return;
  }
  pthread_mutex_lock(&ch->mu);
  while (!ch->full) pthread_cond_wait(&ch->cv, &ch->mu);
  memcpy(data, ch->buf, (size_t)bytes);
  ch->full = 0;
  pthread_cond_broadcast(&ch->cv);
  pthread_mutex_unlock(&ch->mu);
}

int64_t sng_comm_bytes(const SngComm *c) { return atomic_load(&((SngComm *)c)->moved); }
void sng_comm_count(SngComm *c, int64_t bytes) { atomic_fetch_add(&c->moved, bytes); }
