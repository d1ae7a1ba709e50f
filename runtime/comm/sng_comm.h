/* sng_comm.h - the transport between units: messages to a unit's mailbox, and bridge
 * channels that move a tensor from one worker to another inside a step.
 *
 * Example usage:
 *   int64_t sizes[1] = {4096};
 *   SngComm *c = sng_comm_new(3, 1, sizes);                 // 3 units, 1 bridge channel
 *   sng_comm_send(c, 2, (SngMsg){SNG_MSG_UPDATE, .slice = 5, .version = 7});
 *   SngMsg m = sng_comm_recv(c, 2);                          // blocks until one arrives
 *   sng_comm_bridge_send(c, 0, data, 4096);                  // worker a
 *   sng_comm_bridge_recv(c, 0, out, 4096);                   // worker b: waits for it
 *   printf("%lld bytes moved\n", (long long)sng_comm_bytes(c));
 *   sng_comm_free(c);
 *
 * In one process (comm.c) a message carries a pointer to its payload (shared memory) and a
 * bridge is one copy through a buffer.  When the plan spans several processes (mpi.c, Open
 * MPI), sng_comm_set_ranks says which rank runs each unit and each bridge's ends: a message
 * for another rank's unit, and a bridge between ranks, go over MPI behind the same calls.
 * Every payload byte is counted where it is sent, so a run can compare what moved with what
 * singac --explain predicted; sng_mpi_bytes counts what crossed between processes.
 */
#ifndef SNG_COMM_H
#define SNG_COMM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SNG_MSG_UPDATE, SNG_MSG_REPLY, SNG_MSG_QUIT } SngMsgKind;

typedef struct SngMsg {
  int32_t kind;             /* SngMsgKind */
  int32_t slice;            /* index in plan->slices */
  int64_t version;          /* the parameter version (step) it belongs to */
  const float *payload;     /* the slice's gradient (UPDATE) or values (REPLY) */
  int64_t len;              /* elements of payload */
  int32_t from;             /* 0: this process; r + 1: rank r, and the payload is the receiver's to free */
} SngMsg;

typedef struct SngComm SngComm;

SngComm *sng_comm_new(int nunits, int nchannels, const int64_t *channel_bytes);
void sng_comm_free(SngComm *c);
/* Mailboxes: any number of messages may wait; send never blocks. */
void sng_comm_send(SngComm *c, int unit, SngMsg m);
SngMsg sng_comm_recv(SngComm *c, int unit);
/* Bridges: one tensor per channel in flight; receive waits for the send. */
void sng_comm_bridge_send(SngComm *c, int channel, const void *data, int64_t bytes);
void sng_comm_bridge_recv(SngComm *c, int channel, void *data, int64_t bytes);
/* Payload bytes moved so far; sng_comm_count adds bytes handed over by reference (a worker's
 * gradient to its stub, fresh values back). */
int64_t sng_comm_bytes(const SngComm *c);
void sng_comm_count(SngComm *c, int64_t bytes);

/* ---- across processes ---- */
/* Which rank runs each unit (unit_rank[nunits]) and each bridge's sender and receiver
 * (chan_from/chan_to[nchannels]); this process is rank `me`.  Starts a thread that receives
 * this rank's messages: a unit's go to its mailbox, the stub's (sng_comm_send_stub) to
 * on_stub(ctx, m) in that thread.  Only after sng_mpi_start. */
void sng_comm_set_ranks(SngComm *c, int me, const int *unit_rank, const int *chan_from, const int *chan_to,
                        void (*on_stub)(void *ctx, SngMsg m), void *ctx);
/* A message for the stub of rank `rank` (another process). */
void sng_comm_send_stub(SngComm *c, int rank, SngMsg m);

/* mpi.c: Open MPI, started only for a plan of several ranks (MPI_THREAD_MULTIPLE: workers,
 * servers and the receiving thread all call MPI).  Alone (not started), rank 0 of 1 and
 * every collective a no-op. */
int sng_mpi_start(int *argc, char ***argv, char *err, size_t errlen);
int sng_mpi_started(void);
int sng_mpi_rank(void);
int sng_mpi_size(void);
void sng_mpi_stop(void);
void sng_mpi_sum(double *v, int n);              /* every rank gets the sums */
int sng_mpi_max(int v);                          /* the largest v over the ranks */
void sng_mpi_barrier(void);
/* clip_norm (runtime/exec/group.c): the ranks whose servers own slices (member) sum one
 * double each step, called by one server thread per member rank; sng_mpi_norm_setup is
 * collective over every rank, once per group, sng_mpi_norm_free likewise at its end. */
void sng_mpi_norm_setup(int member);
double sng_mpi_norm_sum(double v);
void sng_mpi_norm_free(void);
/* rank `from` sends len floats to rank 0, which receives them into data (others: no-op) */
void sng_mpi_to_root(float *data, int64_t len, int from);
int64_t sng_mpi_bytes(void);                     /* payload bytes this rank sent over MPI */
/* Every rank's host name (collective, once), then sng_mpi_host(r). */
void sng_mpi_hosts(void);
const char *sng_mpi_host(int rank);
/* The watchdog: heartbeats with every other rank; one silent for SNG_MPI_TIMEOUT s ends the
 * job naming it, its host and what[rank] (kept until sng_mpi_watch_stop). */
enum { SNG_MPI_TIMEOUT = 5 };
void sng_mpi_watch_start(char **what);
void sng_mpi_watch_stop(void);
/* internal to runtime/comm: the transport between comm.c and mpi.c */
void sng_mpi_send_msg(int rank, int unit, SngMsg m);
int sng_mpi_recv_msg(int *unit, SngMsg *m);      /* blocks; 0 when this rank's receiver is told to stop */
void sng_mpi_stop_receiver(int me);
void sng_mpi_bridge_send(int rank, int channel, const void *data, int64_t bytes, void **buf, void *req);
void sng_mpi_bridge_wait(void *req);
void sng_mpi_bridge_recv(int rank, int channel, void *data, int64_t bytes);
void *sng_mpi_request_new(void);               /* an MPI_Request, null; free() it */

#endif
