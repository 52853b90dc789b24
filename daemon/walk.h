/*
 * A validation walk over a JSON document: typed reads that record an
 * error naming the value's JSON path ("mcpServers.x.args[1]: expected a
 * string") and carry on, so one pass reports everything that is wrong.
 */
#ifndef DAEMON_WALK_H
#define DAEMON_WALK_H

#include <stddef.h>

#include <cJSON.h>

/* What validation found: errors make the file unusable, warnings do not. */
struct config_diag {
	char	**errors;
	size_t	  nerrors;
	char	**warnings;
	size_t	  nwarnings;
};

/* What one validation pass carries: where messages go and how many. */
struct walk {
	struct config_diag	*diag;		/* NULL: messages are dropped */
	size_t			 nerrors;
};

/* An integer key: its bounds and where it lives in its struct. */
struct walk_int_key {
	const char	*name;
	long long	 min;
	long long	 max;
	size_t		 offset;	/* of an int */
};

#define WALK_NITEMS(a)	(sizeof (a) / sizeof (a)[0])

void		 walk_error(struct walk *, const char *, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
void		 walk_warning(struct walk *, const char *, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
char		*walk_path_key(const char *, const char *);
char		*walk_path_index(const char *, size_t);

cJSON		*walk_parse(struct walk *, const char *, size_t);
void		 walk_check_duplicates(struct walk *, const cJSON *,
		     const char *);
int		 walk_get_int(struct walk *, const cJSON *, const char *,
		     long long, long long, long long *);
const char	*walk_get_string(struct walk *, const cJSON *, const char *);
char		*walk_expand(struct walk *, const char *, const char *);
char		*walk_expand_keep(struct walk *, const char *, const char *,
		     const char *const *);
char		*walk_expand_nonempty(struct walk *, const cJSON *,
		     const char *);

const struct walk_int_key *walk_find_int(const struct walk_int_key *,
		     size_t, const char *);
int		 walk_env_name_valid(const char *);

#endif
