/* troupe/troupe.h: the whole public API of troupe, an actor runtime for C on
 * libev. See docs/concepts.md. */
#ifndef TROUPE_TROUPE_H
#define TROUPE_TROUPE_H

#define TROUPE_VERSION_MAJOR 0
#define TROUPE_VERSION_MINOR 1
#define TROUPE_VERSION_PATCH 0
#define TROUPE_VERSION "0.1.0"

#include <troupe/common.h>
#include <troupe/actor.h>
#include <troupe/message.h>
#include <troupe/runtime.h>
#include <troupe/panic.h>
#include <troupe/supervisor.h>
#include <troupe/config.h>
#include <troupe/debug.h>

#endif /* TROUPE_TROUPE_H */
