/*
 * The configuration file: JSON in the mcpServers shape MCP hosts already
 * use, validated with errors that name the JSON path. Without a
 * broker.socket the daemon listens on DEFAULT_SOCKET (proto/defaults.h).
 */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include <sys/types.h>

#include <stddef.h>

#include <cJSON.h>

#include "config_http.h"
#include "config_server.h"
#include "log.h"
#include "walk.h"

#define CONFIG_DEFAULT_PATH	"/etc/mcp-broker/mcp-broker.json"

/* broker.state_dir by default: the unit's StateDirectory. */
#define CONFIG_DEFAULT_STATE_DIR	"/var/lib/mcp-broker"

/* The most entries allow_uids, and allow_groups, may each hold. */
#define CONFIG_ACL_MAX		1024

struct config {
	char			*socket;
	mode_t			 socket_mode;
	int			 max_sessions;
	int			 max_clients;
	int			 max_sessions_per_uid;	/* 0: no bound */
	int			 max_clients_per_uid;	/* 0: no bound */
	int			 idle_timeout_s;
	int			 request_timeout_s;
	int			 max_request_timeout_s;
	int			 start_timeout_s;
	int			 shutdown_grace_ms;
	size_t			 max_message_bytes;
	enum log_level		 log_level;
	int			 access_log;	/* a line per request at info */
	char			*state_dir;	/* absolute; sessions/ inside */

	/*
	 * Access control, names resolved to ids at load. With neither allow
	 * list set, every local user that can open the socket may use it:
	 * the socket's mode and group are then the access control. With
	 * either set (even to []), a peer must have a listed uid or be in a
	 * listed group (its primary or a supplementary one); root and the
	 * daemon's own user always may. admin_group makes its members admins
	 * (list and close every session) but does not admit them by itself.
	 */
	uid_t			*allow_uids;
	size_t			 nallow_uids;
	int			 allow_uids_set;	/* given, even [] */
	gid_t			*allow_groups;
	size_t			 nallow_groups;
	int			 allow_groups_set;	/* given, even [] */
	gid_t			 admin_group;
	int			 admin_group_set;
	gid_t			 socket_group;	/* the socket's, at creation */
	int			 socket_group_set;

	/* Where session cgroups go: "auto", "off" or an absolute path.
	   Read at start only, like socket. */
	char			*cgroup;

	struct config_http	 http;		/* broker.http */

	struct server_conf	*servers;
	size_t			 nservers;
};


struct config	*config_default(void);
struct config	*config_parse(const char *, size_t, struct config_diag *);
struct config	*config_load(const char *, struct config_diag *);
void		 config_free(struct config *);
void		 config_diag_clear(struct config_diag *);

const struct server_conf *config_find_server(const struct config *,
		     const char *);

void		 config_diff(const struct config *, const struct config *,
		     cJSON **, cJSON **, cJSON **);

#endif
