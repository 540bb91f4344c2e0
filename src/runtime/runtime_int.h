/* runtime_int.h - helpers shared by the worker runtime and the client (not public). */
#ifndef HO_RUNTIME_INT_H
#define HO_RUNTIME_INT_H

#include <czmq.h>

#include "handoff/msg.h"

/* Append msgs to zmsg as batch frames, one per type (in order of first appearance), split
 * so that no frame exceeds HO_MSG_MAX_BODY. */
int ho_runtime_add_grouped(zmsg_t *zmsg, ho_msg_t **msgs, size_t n);

#endif
