/*
 * Who may use the broker and who is an admin, by a peer's uid and
 * groups, as the config says: the same rule for every front end (the
 * socket's peer credentials, or an HTTP token's user).
 */
#include <sys/types.h>

#include <stddef.h>

#include "access.h"
#include "config.h"

static int	access_in_group(gid_t, gid_t, const gid_t *, int);

/* Whether gid is the peer's group or one of its supplementary groups. */
static int
access_in_group(gid_t gid, gid_t primary, const gid_t *groups, int n)
{
	int	i;

	if (gid == primary)
		return (1);
	for (i = 0; i < n; i++) {
		if (groups[i] == gid)
			return (1);
	}
	return (0);
}

/*
 * Whether a peer may use the broker at all: with no allow list, anyone
 * who can open the socket may (its mode and group decide); with one, the
 * peer must be listed by uid or group. Root and the daemon's own user
 * (self) always may.
 */
int
access_peer_allowed(const struct config *conf, uid_t self, uid_t uid,
    gid_t gid, const gid_t *groups, int ngroups)
{
	size_t	i;

	if (!conf->allow_uids_set && !conf->allow_groups_set)
		return (1);
	if (uid == 0 || uid == self)
		return (1);
	for (i = 0; i < conf->nallow_uids; i++) {
		if (conf->allow_uids[i] == uid)
			return (1);
	}
	for (i = 0; i < conf->nallow_groups; i++) {
		if (access_in_group(conf->allow_groups[i], gid, groups,
		    ngroups))
			return (1);
	}
	return (0);
}

/* Whether a peer is an admin: root, the daemon's user, admin_group. */
int
access_peer_admin(const struct config *conf, uid_t self, uid_t uid,
    gid_t gid, const gid_t *groups, int ngroups)
{
	if (uid == 0 || uid == self)
		return (1);
	return (conf->admin_group_set && access_in_group(conf->admin_group,
	    gid, groups, ngroups));
}
