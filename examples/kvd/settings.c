/* examples/kvd/settings.c: kvd's [kvd] section: defaults, ranges, and which
 * keys need a restart. Every actor reads its settings through here, and the
 * listener's validate_config runs it on each reload, so a value that would
 * be refused at start is refused by a reload too, with file:line. */
#include "kvd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int kvd_settings_read(const tr_config_t *cfg, kvd_settings_t *out, tr_config_error_t *err) {
    tr_config_section_t sec;
    tr_config_section(cfg, "kvd", &sec); /* TR_ENOTFOUND: an empty view, all defaults */
    int64_t port, shards, max_clients, client_mb, shard_mb;
    uint64_t timeout, max_bulk;
    const char *bind;
    int debug, rc;
    if ((rc = tr_config_str(&sec, "bind", "127.0.0.1", &bind, err)) ||
        (rc = tr_config_int(&sec, "port", 6380, 0, 65535, &port, err)) ||
        (rc = tr_config_int(&sec, "shards", 4, 1, KVD_SHARDS_MAX, &shards, err)) ||
        (rc = tr_config_int(&sec, "max_clients", 10000, 1, 1000000, &max_clients, err)) ||
        (rc = tr_config_int(&sec, "client_mailbox", 256, 1, TR_MAILBOX_MAX, &client_mb, err)) ||
        (rc = tr_config_int(&sec, "shard_mailbox", 4096, 1, TR_MAILBOX_MAX, &shard_mb, err)) ||
        (rc = tr_config_duration(&sec, "request_timeout", 1000, 1, 3600 * 1000, &timeout, err)) ||
        (rc = tr_config_size(&sec, "max_bulk", 512ull << 20, 1, UINT32_MAX, &max_bulk, err)) ||
        (rc = tr_config_bool(&sec, "debug_commands", 0, &debug, err)))
        return rc;
    unsigned char addr[sizeof(struct in6_addr)];
    if (strlen(bind) >= KVD_BIND_MAX ||
        (inet_pton(AF_INET, bind, addr) != 1 && inet_pton(AF_INET6, bind, addr) != 1))
        return tr_config_refuse(err, &sec, "bind", "not an IPv4 or IPv6 address: '%s'", bind);
    snprintf(out->bind, sizeof out->bind, "%s", bind);
    out->port = (uint32_t)port;
    out->shards = (uint32_t)shards;
    out->max_clients = (uint32_t)max_clients;
    out->client_mailbox = (uint32_t)client_mb;
    out->shard_mailbox = (uint32_t)shard_mb;
    out->request_timeout_ms = (uint32_t)timeout;
    out->max_bulk = max_bulk;
    out->debug_commands = debug;
    return 0;
}

void kvd_settings_restart_keys(const kvd_settings_t *running, const kvd_settings_t *next,
                               char *buf, size_t len) {
    buf[0] = '\0';
    const char *sep = "";
    size_t n = 0;
#define KVD_CHANGED(cond, key)                                                                   \
    if ((cond) && n < len) {                                                                     \
        n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, key);                               \
        sep = ", ";                                                                              \
    }
    KVD_CHANGED(strcmp(running->bind, next->bind) != 0, "bind")
    KVD_CHANGED(running->port != next->port, "port")
    KVD_CHANGED(running->shards != next->shards, "shards")
#undef KVD_CHANGED
}

void kvd_settings_take_live(kvd_settings_t *r, const kvd_settings_t *next) {
    r->max_clients = next->max_clients;
    r->client_mailbox = next->client_mailbox;
    r->shard_mailbox = next->shard_mailbox;
    r->request_timeout_ms = next->request_timeout_ms;
    r->max_bulk = next->max_bulk;
    r->debug_commands = next->debug_commands;
}
