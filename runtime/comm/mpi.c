/* mpi.c - the transport between processes: Open MPI, started only when the plan spans
 * several ranks (singa-exec calls sng_mpi_start then), so a one-process run does no MPI
 * start-up at all although the library is linked.
 *
 * Thread level: MPI_THREAD_MULTIPLE.  Worker threads send and receive bridges and send
 * UPDATE messages from inside backward, server threads send REPLY messages, and one receiving
 * thread per process takes every message addressed to this rank.  Three communicators keep
 * the traffic apart: messages (header + payload, any source, any tag: the receiving thread
 * alone receives on it), bridges (tag = channel, received by the worker that waits for it)
 * and the driver's collectives.  Errors return (MPI_ERRORS_RETURN) and end the process with
 * a message naming the call.
 *
 * Failures: a thread per rank (sng_mpi_watch_start) sends a heartbeat to every other rank
 * every 0.25 s on a fourth communicator and receives theirs; a rank not heard from for
 * SNG_MPI_TIMEOUT seconds (stopped, hung, unreachable) ends the job with MPI_Abort and a
 * message naming the rank, its host and the units it held.  A rank that dies is seen first
 * by mpirun, which ends the job naming the rank and its node.  Before the watchdog starts,
 * every pair of ranks exchanges one byte (check_reach): ranks that cannot reach each other are
 * named before training begins.
 */
#include "sng_comm.h"
#include "sng_core.h"

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int started, me, size = 1;
static MPI_Comm msg_comm, bridge_comm, coll_comm, beat_comm;
static _Atomic int64_t sent_bytes;
enum { HOST_LEN = MPI_MAX_PROCESSOR_NAME };
static pthread_t watch_thread;
static atomic_int watching;
static char *hosts;          /* size x HOST_LEN */
static char **held;          /* per rank: what it runs, for the message */

typedef struct Hdr {
  int32_t unit, kind, slice, from;
  int64_t version, len;
} Hdr;

static void check(int rc, const char *what) {
  if (rc == MPI_SUCCESS) return;
  char s[MPI_MAX_ERROR_STRING];
  int n = 0;
  MPI_Error_string(rc, s, &n);
  fprintf(stderr, "singa-exec: rank %d: %s failed: %s\n", me, what, s);
  fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 3);
}

int sng_mpi_start(int *argc, char ***argv, char *err, size_t errlen) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    snprintf(err, errlen, "MPI_Init_thread failed");
    return -1;
  }
  if (provided < MPI_THREAD_MULTIPLE) {
    snprintf(err, errlen, "this MPI library gives thread level %d; singa-exec needs MPI_THREAD_MULTIPLE", provided);
    MPI_Finalize();
    return -1;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_dup(MPI_COMM_WORLD, &msg_comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &bridge_comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &coll_comm);
  MPI_Comm_dup(MPI_COMM_WORLD, &beat_comm);
  started = 1;
  return 0;
}

int sng_mpi_started(void) { return started; }
int sng_mpi_rank(void) { return me; }
int sng_mpi_size(void) { return size; }
int64_t sng_mpi_bytes(void) { return atomic_load(&sent_bytes); }

void sng_mpi_stop(void) {
  if (!started) return;
  free(hosts), hosts = NULL;
  MPI_Comm_free(&msg_comm);
  MPI_Comm_free(&bridge_comm);
  MPI_Comm_free(&coll_comm);
  MPI_Comm_free(&beat_comm);
  MPI_Finalize();
  started = 0;
}

void sng_mpi_sum(double *v, int n) {
  if (started) check(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, coll_comm), "MPI_Allreduce");
}

int sng_mpi_max(int v) {
  if (started) check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, coll_comm), "MPI_Allreduce");
  return v;
}

static MPI_Comm norm_comm = MPI_COMM_NULL; /* clip_norm: the ranks whose servers own slices */

void sng_mpi_norm_setup(int member) {
  if (started) check(MPI_Comm_split(coll_comm, member ? 0 : MPI_UNDEFINED, me, &norm_comm), "MPI_Comm_split");
}

double sng_mpi_norm_sum(double v) {
  if (started && norm_comm != MPI_COMM_NULL)
    check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_SUM, norm_comm), "MPI_Allreduce");
  return v;
}

void sng_mpi_norm_free(void) {
  if (norm_comm != MPI_COMM_NULL) MPI_Comm_free(&norm_comm);
  norm_comm = MPI_COMM_NULL;
}

void sng_mpi_barrier(void) {
  if (started) check(MPI_Barrier(coll_comm), "MPI_Barrier");
}

void sng_mpi_to_root(float *data, int64_t len, int from) {
  if (!started || from == 0 || (me != 0 && me != from)) return;
  SNG_ASSERT(len * 4 <= INT32_MAX);
  if (me == from) check(MPI_Send(data, (int)len, MPI_FLOAT, 0, 1, coll_comm), "MPI_Send");
  else check(MPI_Recv(data, (int)len, MPI_FLOAT, from, 1, coll_comm, MPI_STATUS_IGNORE), "MPI_Recv");
}

/* ---- messages: one MPI message each, the header then the payload ---- */

void sng_mpi_send_msg(int rank, int unit, SngMsg m) {
  size_t pay = (size_t)m.len * 4, n = sizeof(Hdr) + pay;
  SNG_ASSERT(n <= INT32_MAX);
  char *buf = sng_alloc(n);
  Hdr h = {unit, m.kind, m.slice, me, m.version, m.len};
  memcpy(buf, &h, sizeof h);
  if (pay) memcpy(buf + sizeof h, m.payload, pay);
  atomic_fetch_add(&sent_bytes, (int64_t)pay); /* before: the receiver may end the step at once */
  check(MPI_Send(buf, (int)n, MPI_BYTE, rank, m.kind, msg_comm), "MPI_Send (message)");
  free(buf);
}

void sng_mpi_stop_receiver(int rank) {
  Hdr h = {-2, SNG_MSG_QUIT, 0, me, 0, 0};
  check(MPI_Send(&h, sizeof h, MPI_BYTE, rank, SNG_MSG_QUIT, msg_comm), "MPI_Send (stop)");
}

int sng_mpi_recv_msg(int *unit, SngMsg *m) {
  MPI_Message mh;
  MPI_Status st;
  check(MPI_Mprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, msg_comm, &mh, &st), "MPI_Mprobe");
  int n = 0;
  MPI_Get_count(&st, MPI_BYTE, &n);
  SNG_ASSERT(n >= (int)sizeof(Hdr));
  char *buf = sng_alloc((size_t)n);
  check(MPI_Mrecv(buf, n, MPI_BYTE, &mh, MPI_STATUS_IGNORE), "MPI_Mrecv");
  Hdr h;
  memcpy(&h, buf, sizeof h);
  *unit = h.unit;
  if (h.unit == -2) {
    free(buf);
    return 0;
  }
  /* the payload moves to the front of the buffer, which the receiver frees */
  if (h.len) memmove(buf, buf + sizeof h, (size_t)h.len * 4);
  *m = (SngMsg){h.kind, h.slice, h.version, (const float *)buf, h.len, h.from + 1};
  if (!h.len) free(buf), m->payload = NULL;
  return 1;
}

/* ---- bridges: the sender copies into the channel's buffer and sends without waiting (one
 * tensor in flight per channel, as in shared memory), the receiver waits for it ---- */

void *sng_mpi_request_new(void) {
  MPI_Request *r = sng_alloc(sizeof *r);
  *r = MPI_REQUEST_NULL;
  return r;
}

void sng_mpi_bridge_wait(void *req) {
  MPI_Request *r = req;
  if (*r != MPI_REQUEST_NULL) check(MPI_Wait(r, MPI_STATUS_IGNORE), "MPI_Wait (bridge)");
}

void sng_mpi_bridge_send(int rank, int channel, const void *data, int64_t bytes, void **buf, void *req) {
  SNG_ASSERT(bytes <= INT32_MAX);
  sng_mpi_bridge_wait(req);
  if (!*buf) *buf = sng_alloc_aligned((size_t)bytes + 64);
  memcpy(*buf, data, (size_t)bytes);
  atomic_fetch_add(&sent_bytes, bytes);
  check(MPI_Isend(*buf, (int)bytes, MPI_BYTE, rank, channel, bridge_comm, (MPI_Request *)req), "MPI_Isend (bridge)");
}

void sng_mpi_bridge_recv(int rank, int channel, void *data, int64_t bytes) {
  SNG_ASSERT(bytes <= INT32_MAX);
  check(MPI_Recv(data, (int)bytes, MPI_BYTE, rank, channel, bridge_comm, MPI_STATUS_IGNORE), "MPI_Recv (bridge)");
}

/* ---- the watchdog: heartbeats between every pair of ranks ---- */


static void *watch_main(void *arg) {
  (void)arg;
  double *seen = sng_calloc((size_t)size, sizeof *seen), last = 0;
  MPI_Request *req = sng_calloc((size_t)size, sizeof *req);
  static const char beat = 1;
  char sink;
  for (int r = 0; r < size; r++) seen[r] = sng_now(), req[r] = MPI_REQUEST_NULL;
  while (atomic_load(&watching)) {
    double now = sng_now();
    if (now - last >= 0.25) { /* one heartbeat in flight per peer at most */
      for (int r = 0; r < size; r++) {
        int done = 1;
        if (r == me) continue;
        if (req[r] != MPI_REQUEST_NULL) MPI_Test(&req[r], &done, MPI_STATUS_IGNORE);
        if (done) MPI_Isend(&beat, 1, MPI_BYTE, r, 0, beat_comm, &req[r]);
      }
      last = now;
    }
    for (;;) {
      int flag = 0;
      MPI_Status st;
      if (MPI_Iprobe(MPI_ANY_SOURCE, 0, beat_comm, &flag, &st) != MPI_SUCCESS || !flag) break;
      MPI_Recv(&sink, 1, MPI_BYTE, st.MPI_SOURCE, 0, beat_comm, MPI_STATUS_IGNORE);
      seen[st.MPI_SOURCE] = now;
    }
    for (int r = 0; r < size; r++)
      if (r != me && now - seen[r] > SNG_MPI_TIMEOUT) {
        fprintf(stderr, "singa-exec: rank %d (host %s) has not been heard from for %.0f s (stopped, hung or "
                        "unreachable); it held %s; ending the job (seen by rank %d on %s)\n",
                r, hosts + (size_t)r * HOST_LEN, now - seen[r], held[r], me, hosts + (size_t)me * HOST_LEN);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 4);
      }
    nanosleep(&(struct timespec){0, 50000000}, NULL);
  }
  for (int r = 0; r < size; r++) /* 1-byte sends are eager: they complete without the peer */
    if (req[r] != MPI_REQUEST_NULL) MPI_Wait(&req[r], MPI_STATUS_IGNORE);
  free(seen), free(req);
  return NULL;
}

const char *sng_mpi_host(int rank) { return hosts ? hosts + (size_t)rank * HOST_LEN : "?"; }

void sng_mpi_hosts(void) {
  if (!started || hosts) return;
  hosts = sng_calloc((size_t)size * HOST_LEN, 1);
  char mine[HOST_LEN] = {0};
  int n = 0;
  MPI_Get_processor_name(mine, &n);
  check(MPI_Allgather(mine, HOST_LEN, MPI_CHAR, hosts, HOST_LEN, MPI_CHAR, coll_comm), "MPI_Allgather");
}

/* Start-up: every rank sends one byte to every other and waits up to SNG_MPI_TIMEOUT s for
 * theirs; a peer whose byte does not come, or whose send or receive fails, is named with its
 * host, and the job ends before training.  SNG_MPI_TEST_DEAF=R (tests only) makes rank R send
 * nothing, as if the path to it were cut. */
static void check_reach(void) {
  MPI_Request *sreq = sng_calloc((size_t)size, sizeof *sreq), *rreq = sng_calloc((size_t)size, sizeof *rreq);
  char *in = sng_calloc((size_t)size, 1), *bad = sng_calloc((size_t)size, 1);
  static const char ping = 1;
  const char *deaf = getenv("SNG_MPI_TEST_DEAF");
  int mute = deaf && atoi(deaf) == me;
  for (int r = 0; r < size; r++) {
    sreq[r] = rreq[r] = MPI_REQUEST_NULL;
    if (r == me) continue;
    if (MPI_Irecv(&in[r], 1, MPI_BYTE, r, 1, beat_comm, &rreq[r]) != MPI_SUCCESS) bad[r] = 1;
    if (!mute && MPI_Isend(&ping, 1, MPI_BYTE, r, 1, beat_comm, &sreq[r]) != MPI_SUCCESS) bad[r] = 1;
  }
  double t0 = sng_now();
  int waiting = 1;
  while (waiting && sng_now() - t0 < SNG_MPI_TIMEOUT) {
    waiting = 0;
    for (int r = 0; r < size; r++) {
      int done = 1;
      if (r == me || bad[r] || rreq[r] == MPI_REQUEST_NULL) continue;
      if (MPI_Test(&rreq[r], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) bad[r] = 1;
      else waiting |= !done;
    }
    if (waiting) nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  SngBuf b = {0};
  for (int r = 0; r < size; r++)
    if (r != me && (bad[r] || rreq[r] != MPI_REQUEST_NULL))
      sng_buf_printf(&b, "%s rank %d (host %s)", b.len ? "," : "", r, hosts + (size_t)r * HOST_LEN);
  if (b.len) {
    fprintf(stderr, "singa-exec: rank %d (host %s) cannot reach%.*s within %d s: check that the hosts can "
                    "reach each other (firewall, btl_tcp_if_include); ending the job before training\n",
            me, hosts + (size_t)me * HOST_LEN, (int)b.len, (const char *)b.data, (int)SNG_MPI_TIMEOUT);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 4);
  }
  for (int r = 0; r < size; r++) /* 1-byte sends are eager: they complete without the peer */
    if (sreq[r] != MPI_REQUEST_NULL) MPI_Wait(&sreq[r], MPI_STATUS_IGNORE);
  sng_buf_free(&b);
  free(sreq), free(rreq), free(in), free(bad);
}

void sng_mpi_watch_start(char **what) {
  if (!started || size < 2 || atomic_load(&watching)) return;
  sng_mpi_hosts();
  check_reach();
  held = what;
  atomic_store(&watching, 1);
  pthread_create(&watch_thread, NULL, watch_main, NULL);
}

void sng_mpi_watch_stop(void) {
  if (!atomic_load(&watching)) return;
  atomic_store(&watching, 0);
  pthread_join(watch_thread, NULL);
  held = NULL;
}
