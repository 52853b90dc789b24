/*
 * mcp-brokerctl top: not written yet.
 */
#include <stdio.h>

#include "ctl.h"

/* top: not written yet. */
int
ctl_top(struct client *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	fprintf(stderr, "mcp-brokerctl: top is not written yet\n");
	return (CTL_EXIT_USAGE);
}
