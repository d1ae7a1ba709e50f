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
 * In one process (this file) a message carries a pointer to its payload (shared memory)
 * and a bridge is one copy through a buffer; the issue that adds Open MPI puts MPI_Send and
 * MPI_Recv behind the same calls.  Every payload byte is counted where it is sent, so a run
 * can compare what moved with what singac --explain predicted.
 */
#ifndef SNG_COMM_H
#define SNG_COMM_H

#include <stdint.h>

typedef enum { SNG_MSG_UPDATE, SNG_MSG_REPLY, SNG_MSG_QUIT } SngMsgKind;

typedef struct SngMsg {
  int32_t kind;             /* SngMsgKind */
  int32_t slice;            /* index in plan->slices */
  int64_t version;          /* the parameter version (step) it belongs to */
  const float *payload;     /* the slice's gradient (UPDATE) or values (REPLY) */
  int64_t len;              /* elements of payload */
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

#endif
