/*
 * The "broker.http" section: the TCP listeners of the HTTP front end, who
 * may use them (the tokens file, read and checked at every load), and
 * their bounds.
 */
#ifndef DAEMON_CONFIG_HTTP_H
#define DAEMON_CONFIG_HTTP_H

#include <sys/types.h>

#include <stddef.h>

#include <cJSON.h>

#include "walk.h"

/* broker.http.idle_timeout_s by default. */
#define CONFIG_HTTP_IDLE_TIMEOUT_S	60
/* The most entries broker.http.listen and allowed_origins may hold. */
#define CONFIG_HTTP_LIST_MAX		64
/* The largest tokens file, and the most tokens in it. */
#define CONFIG_HTTP_TOKENS_FILE_MAX	(1024 * 1024)
#define CONFIG_HTTP_TOKENS_MAX		4096
/* A token's length bounds, in bytes: short tokens can be guessed. */
#define CONFIG_HTTP_TOKEN_MIN		16
#define CONFIG_HTTP_TOKEN_MAX		1024

/* One line of the tokens file, its user resolved at load. */
struct config_http_token {
	char		*token;
	size_t		 len;
	uid_t		 uid;
	gid_t		 gid;		/* (gid_t)-1: no passwd entry */
	gid_t		*groups;	/* supplementary, for admin_group */
	int		 ngroups;
};

struct config_http {
	char			**listen;	/* "HOST:PORT" */
	size_t			  nlisten;
	char			 *tokens_file;
	struct config_http_token *tokens;
	size_t			  ntokens;
	size_t			  token_max;	/* the longest token's length */
	int			  allow_remote;
	char			**origins;	/* allowed_origins */
	size_t			  norigins;
	int			  idle_timeout_s;
};

void	 config_http_init(struct config_http *);
void	 config_http_parse(struct walk *, struct config_http *,
	     const cJSON *, const char *);
void	 config_http_clear(struct config_http *);
int	 config_http_reload(const struct config_http *,
	     struct config_http *, char **);

int	 config_http_split(const char *, char **, char **);
int	 config_http_origin_ok(const struct config_http *, const char *);
int	 config_http_loopback(const char *);
const struct config_http_token *config_http_find_token(
	     const struct config_http *, const char *, size_t);

#endif
