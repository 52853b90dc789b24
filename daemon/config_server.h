/*
 * The entries of "mcpServers": what starts each server's children and
 * what the broker declares to them.
 */
#ifndef DAEMON_CONFIG_SERVER_H
#define DAEMON_CONFIG_SERVER_H

#include <cJSON.h>

struct config;
struct server_conf;
struct walk;

/* The largest max_sessions and max_clients, per server and overall. */
#define CONFIG_MAX_COUNT	1000000

/* The largest timeout in seconds: in milliseconds it still fits an int. */
#define CONFIG_MAX_TIMEOUT_S	1000000

void	config_server_parse_all(struct walk *, struct config *,
	    const cJSON *, int);
void	config_server_clear(struct server_conf *);

#endif
