/*
 * The entries of "mcpServers": what starts each server's children and
 * what the broker declares to them.
 */
#ifndef DAEMON_CONFIG_SERVER_H
#define DAEMON_CONFIG_SERVER_H

#include <stddef.h>

#include <cJSON.h>

struct walk;

/* A per-server override that is not set takes the broker's value. */
#define CONFIG_UNSET		(-1)

/* Which MCP protocol the broker speaks to a server's children. */
enum server_protocol {
	SERVER_PROTOCOL_AUTO,	/* "auto": whichever the child speaks */
	SERVER_PROTOCOL_LEGACY,	/* "legacy": the initialize handshake */
	SERVER_PROTOCOL_MODERN	/* "2026-07-28": handshake-free */
};

/* A root the broker declares to a server's children (a file:// URI). */
struct server_root {
	char	*uri;
	char	*name;		/* NULL if absent */
};

/*
 * command, argv, env values and cwd are stored with ${NAME} already
 * replaced by the daemon's environment at load, so they may hold secrets:
 * never log them. If any arg or env value refers to a session value
 * (${session_dir}, ${thread}, ${server}, ${session_id}), templates is set
 * and every string of argv and env is a template for workdir_expand().
 */
struct server_conf {
	char	 *name;
	char	 *command;
	char	**argv;		/* command then args, NULL-terminated */
	size_t	  argc;
	char	**env;		/* "NAME=value", NULL-terminated */
	size_t	  envc;
	char	 *cwd;		/* NULL: the daemon's */
	int	  session_dir;	/* a private directory per session */
	int	  templates;	/* argv and env hold session templates */
	int	  max_sessions;	/* 0: only the global cap */
	int	  idle_timeout_s;	/* CONFIG_UNSET or seconds */
	int	  request_timeout_s;	/* CONFIG_UNSET or seconds */
	int	  start_timeout_s;	/* CONFIG_UNSET or seconds */
	long long memory_max;	/* cgroup memory.max in bytes; 0: none */
	int	  pids_max;	/* cgroup pids.max; 0: none */
	int	  cpu_weight;	/* cgroup cpu.weight, 1-10000; 0: none */
	int	  disabled;

	/* What the broker declares to the child, so a change restarts it. */
	enum server_protocol	 protocol;
	struct server_root	*roots;
	size_t			 nroots;
	int			 roots_set;	/* "roots" given, even [] */
	cJSON			*client_capabilities;	/* owned, or NULL */
};

/* The largest max_sessions and max_clients, per server and overall. */
#define CONFIG_MAX_COUNT	1000000

/* The smallest memory_max: less cannot run a process. */
#define CONFIG_MIN_MEMORY	1048576LL
/* The largest memory_max (2^62, well past any host). */
#define CONFIG_MAX_MEMORY	4611686018427387904LL
/* The range of cpu_weight (the kernel's cpu.weight). */
#define CONFIG_MAX_CPU_WEIGHT	10000

/* The largest timeout in seconds: in milliseconds it still fits an int. */
#define CONFIG_MAX_TIMEOUT_S	1000000

struct server_conf *config_server_parse_all(struct walk *, const cJSON *,
		     const char *, int, size_t *);
void	config_server_clear(struct server_conf *);
int	config_server_equal(const struct server_conf *,
	    const struct server_conf *);

#endif
